//! What a participant may do: the grant the server verified from its access token.

/// What a verified token lets a participant do in its room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinGrant {
    /// Participant identity (`sub`), unique within the room.
    pub identity: String,
    /// Display name.
    pub name: String,
    /// The room it may join.
    pub room: String,
    /// May publish tracks (default true).
    pub can_publish: bool,
    /// Sources it may publish (`camera`, `microphone`, `screen_share`, ...); empty = any.
    pub can_publish_sources: Vec<String>,
    /// May subscribe to others' tracks (default true).
    pub can_subscribe: bool,
    /// May send data packets (defaults to `can_publish`).
    pub can_publish_data: bool,
    /// Invisible to other participants.
    pub hidden: bool,
    /// Participant metadata.
    pub metadata: String,
    /// May change its own name, metadata and attributes (`canUpdateOwnMetadata`,
    /// default false).
    pub can_update_metadata: bool,
}
