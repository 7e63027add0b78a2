use super::*;

#[test]
fn a_room_always_lands_on_the_same_shard_and_rooms_spread_over_every_shard() {
    let shards = 4;
    let mut seen = [0usize; 4];
    for i in 0..400 {
        let room = format!("visit-{i}");
        let shard = shard_of_room(&room, shards);
        assert_eq!(shard, shard_of_room(&room, shards), "stable for {room}");
        seen[shard] += 1;
    }
    // FNV-1a spreads sequential names: every shard gets a fair share.
    assert!(seen.iter().all(|&n| n > 60), "spread: {seen:?}");
    assert_eq!(shard_of_room("anything", 1), 0);
}

#[test]
fn shard_ports_count_up_from_the_configured_port_and_zero_stays_any_port() {
    let configured: SocketAddr = "0.0.0.0:7882".parse().unwrap();
    assert_eq!(numbered(configured, 0).port(), 7882);
    assert_eq!(numbered(configured, 3).port(), 7885);
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    assert_eq!(numbered(any, 2).port(), 0);
}
