//! The stored form of an observation's derived cost (one JSON text column on both backends),
//! the custom models' price maps and tiers, and the token counting both stores do before a
//! batch reaches the writer.

use crate::Result;
use spindle_core::record::DerivedCost;
use spindle_core::{Error, WriteBatch};
use spindle_cost::Pricer;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Finite entries of a cost or price map, serialized without building a JSON tree.
struct Finite<'a>(&'a BTreeMap<String, f64>);

impl serde::Serialize for Finite<'_> {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        for (key, value) in self.0.iter().filter(|(_, value)| value.is_finite()) {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// The stored JSON object: only the parts that are set.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Stored<'a> {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    inferred_usage: &'a BTreeMap<String, i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    calculated_cost: Option<Finite<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    model_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tier: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prices: Option<Finite<'a>>,
    /// As text: JSON numbers lose the low bits of a u64.
    #[serde(skip_serializing_if = "Option::is_none")]
    counted: Option<String>,
}

/// `None` for nothing derived, else a JSON object with only the parts that are set. A
/// built-in entry's prices are left out (they are in the binary; [`decode`] puts them back).
pub fn encode(derived: &DerivedCost) -> Option<String> {
    if derived.is_empty() {
        return None;
    }
    let builtin = derived
        .model_id
        .as_deref()
        .and_then(spindle_cost::builtin_entry)
        .is_some_and(|entry| entry.prices == derived.prices);
    let stored = Stored {
        inferred_usage: &derived.inferred_usage,
        calculated_cost: (!derived.calculated_cost.is_empty())
            .then_some(Finite(&derived.calculated_cost)),
        model_id: derived.model_id.as_deref(),
        tier: derived.tier.as_deref(),
        prices: (!derived.prices.is_empty() && !builtin).then_some(Finite(&derived.prices)),
        counted: derived.counted.map(|counted| counted.to_string()),
    };
    serde_json::to_string(&stored).ok()
}

/// The inverse of [`encode`].
pub fn decode(text: Option<&str>) -> Result<DerivedCost> {
    let Some(text) = text else {
        return Ok(DerivedCost::default());
    };
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|error| Error::internal(format!("stored derived cost is not JSON: {error}")))?;
    let counts = |key: &str| -> BTreeMap<String, i64> {
        value[key]
            .as_object()
            .map(|object| {
                object
                    .iter()
                    .filter_map(|(k, v)| v.as_i64().map(|v| (k.clone(), v)))
                    .collect()
            })
            .unwrap_or_default()
    };
    let amounts = |key: &str| -> BTreeMap<String, f64> {
        value[key]
            .as_object()
            .map(|object| {
                object
                    .iter()
                    .filter_map(|(k, v)| v.as_f64().map(|v| (k.clone(), v)))
                    .collect()
            })
            .unwrap_or_default()
    };
    let model_id = value["modelId"].as_str().map(str::to_owned);
    let mut prices = amounts("prices");
    if prices.is_empty() {
        if let Some(entry) = model_id.as_deref().and_then(spindle_cost::builtin_entry) {
            prices = entry.prices.clone();
        }
    }
    Ok(DerivedCost {
        inferred_usage: counts("inferredUsage"),
        calculated_cost: amounts("calculatedCost"),
        model_id,
        tier: value["tier"].as_str().map(str::to_owned),
        prices,
        counted: value["counted"].as_str().and_then(|text| text.parse().ok()),
    })
}

/// A price or cost map as a JSON object, leaving out numbers JSON cannot hold.
pub fn finite_map(map: &BTreeMap<String, f64>) -> serde_json::Value {
    serde_json::Value::Object(
        map.iter()
            .filter_map(|(k, v)| {
                serde_json::Number::from_f64(*v).map(|n| (k.clone(), serde_json::Value::Number(n)))
            })
            .collect(),
    )
}

/// Reads a stored price map (`{"input": 0.000001, ...}`).
pub fn decode_prices(text: &str) -> Result<BTreeMap<String, f64>> {
    serde_json::from_str(text)
        .map_err(|error| Error::internal(format!("stored model prices are not readable: {error}")))
}

/// A custom model's extra tiers as stored: `None` when it has none.
pub fn encode_tiers(tiers: &[spindle_cost::CustomTier]) -> Option<String> {
    if tiers.is_empty() {
        return None;
    }
    serde_json::to_string(tiers).ok()
}

/// The inverse of [`encode_tiers`].
pub fn decode_tiers(text: Option<&str>) -> Result<Vec<spindle_cost::CustomTier>> {
    match text {
        None => Ok(Vec::new()),
        Some(text) => serde_json::from_str(text).map_err(|error| {
            Error::internal(format!("stored pricing tiers are not readable: {error}"))
        }),
    }
}

/// Counts the tokens the writer would have to count (see [`Pricer::count_ahead`]) on the
/// blocking pool, before the batch goes to the writer; a batch with nothing to count is
/// returned as it is.
pub async fn count_ahead(pricer: &Arc<Pricer>, mut batch: WriteBatch) -> Result<WriteBatch> {
    if !batch.observations.iter().any(Pricer::may_count) {
        return Ok(batch);
    }
    let pricer = Arc::clone(pricer);
    tokio::task::spawn_blocking(move || {
        pricer.count_ahead(&mut batch.observations);
        batch
    })
    .await
    .map_err(|error| Error::internal(format!("token counting failed: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        assert_eq!(encode(&DerivedCost::default()), None);
        assert_eq!(decode(None).unwrap(), DerivedCost::default());
        let derived = DerivedCost {
            inferred_usage: BTreeMap::from([("input".to_owned(), 3), ("total".to_owned(), 3)]),
            calculated_cost: BTreeMap::from([("input".to_owned(), 7.5e-6)]),
            model_id: Some("openai-gpt-4o".to_owned()),
            tier: None,
            prices: BTreeMap::from([("input".to_owned(), 2.5e-6)]),
            counted: Some(u64::MAX - 7),
        };
        let text = encode(&derived).unwrap();
        assert_eq!(decode(Some(&text)).unwrap(), derived);
        // A built-in entry's prices are left out of the stored text and come back on read.
        let builtin = DerivedCost {
            model_id: Some("openai-gpt-4o".to_owned()),
            prices: spindle_cost::builtin_entry("openai-gpt-4o")
                .expect("built-in gpt-4o")
                .prices
                .clone(),
            ..DerivedCost::default()
        };
        let text = encode(&builtin).unwrap();
        assert!(!text.contains("prices"), "{text}");
        assert_eq!(decode(Some(&text)).unwrap(), builtin);
    }
}
