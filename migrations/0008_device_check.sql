-- Bedside schema, part 8: what a patient's device check found, for the clinician's
-- waiting panel. Statuses only (no device labels, which can carry a person's name).

alter table meeting_participant
    add column check_camera text,
    add column check_microphone text,
    add column check_round_trip_ms integer,
    add column check_down_kbps integer,
    add column check_up_kbps integer,
    add column check_route text,
    add column checked_at timestamptz,
    add constraint meeting_participant_check_camera_check
        check (check_camera in ('working', 'blocked', 'failed')),
    add constraint meeting_participant_check_microphone_check
        check (check_microphone in ('working', 'blocked', 'failed')),
    add constraint meeting_participant_check_round_trip_check
        check (check_round_trip_ms between 0 and 60000),
    add constraint meeting_participant_check_throughput_check
        check (check_down_kbps between 0 and 10000000 and check_up_kbps between 0 and 10000000),
    add constraint meeting_participant_check_route_check
        check (check_route in ('udp', 'tcp', 'relay'));
