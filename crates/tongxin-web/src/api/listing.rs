//! The JSON shape of a page of records, the same for every list route. `total_capped` says
//! the list holds more than `total`: counting stopped at `tongxin_store::COUNT_CAP`.

use serde_json::{Value, json};
use tongxin_store::Page;

/// A whole, unpaged list (a unit's channels, the sectors) in the same envelope.
pub(crate) fn whole<T, F: Fn(&T) -> Value>(items: &[T], item: F) -> Value {
    json!({
        "items": items.iter().map(item).collect::<Vec<_>>(),
        "total": items.len(),
    })
}

/// A page of results in the list envelope.
pub(crate) fn list<T, F: Fn(&T) -> Value>(page: &Page<T>, item: F) -> Value {
    json!({
        "items": page.items.iter().map(item).collect::<Vec<_>>(),
        "total": page.total.count,
        "total_capped": page.total.capped,
        "page": page.page,
        "per_page": page.per_page,
    })
}
