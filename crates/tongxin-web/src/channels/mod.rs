//! A unit's robots and webhooks (`/units/{id}/channels`, `/api/v1/units/{id}/channels`): set up
//! by the unit's administrator with the events each is told, tested with "send a test message",
//! removed. Addresses and secrets go in and are never shown again.

pub mod api;
pub mod pages;

use tongxin_store::{Actor, ChannelInput, ChannelView, StoreError};

use crate::AppState;

/// Checks the address (reachable kind, not inside the network unless allowed) and sets the
/// channel up.
async fn add(
    state: &AppState,
    actor: &Actor,
    unit: i64,
    input: &ChannelInput,
) -> Result<ChannelView, StoreError> {
    state
        .outbound
        .check_target(&input.url)
        .await
        .map_err(StoreError::Invalid)?;
    state
        .store
        .add_channel(actor, state.clock.now(), unit, input)
        .await
}

/// Sends the test message to channel `id`; refused with what the receiver said.
async fn test(state: &AppState, actor: &Actor, id: i64) -> Result<(), StoreError> {
    let target = state.store.channel_target(actor, id).await?;
    let text = state
        .catalog
        .get(tongxin_i18n::Lang::default(), "channels.test_message")
        .to_owned();
    let now = state.clock.now();
    state
        .outbound
        .send_to_channel(
            &target,
            now,
            &format!("test-{id}-{}", now.micros()),
            &text,
            &serde_json::json!({ "kind": "test" }),
        )
        .await
        .map_err(StoreError::Invalid)
}
