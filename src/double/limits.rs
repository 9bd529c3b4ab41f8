//! What the double bounds, and advertises in its ServiceProviderConfig.

/// The most resources one list answer holds (advertised as filter.maxResults).
pub const MAX_RESULTS: usize = 1000;
/// The most operations one bulk request may hold (bulk.maxOperations).
pub const MAX_OPERATIONS: usize = 1000;
/// The largest bulk request body, in bytes (bulk.maxPayloadSize).
pub const MAX_PAYLOAD: usize = 1_048_576;
