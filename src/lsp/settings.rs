//! The `httplens` settings section, from `initializationOptions` and
//! `workspace/configuration`.

use serde::Deserialize;

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    pub environment: Option<String>,
    pub token_store: Option<String>,
    pub timeout_seconds: Option<u64>,
    pub history_size: Option<usize>,
    pub trace: Trace,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Trace {
    pub server: Option<String>,
}

impl Settings {
    /// Reads either `{"httplens": {...}}` or the section itself; anything unreadable
    /// gives the defaults (a bad setting must not stop the server), with the reason.
    pub fn from_value(v: &serde_json::Value) -> Result<Settings, String> {
        if v.is_null() {
            return Ok(Settings::default());
        }
        let section = v.get("httplens").unwrap_or(v);
        // Also accept dotted keys as some clients send them (`"trace.server": "off"`).
        let mut section = section.clone();
        if let Some(obj) = section.as_object_mut()
            && let Some(ts) = obj.remove("trace.server")
        {
            obj.insert("trace".into(), serde_json::json!({ "server": ts }));
        }
        let mut s: Settings = serde_json::from_value(section)
            .map_err(|e| format!("the httplens settings are not valid ({e}); using defaults"))?;
        // Clients write "" for a cleared text setting: that means unset.
        for v in [&mut s.environment, &mut s.token_store, &mut s.trace.server] {
            if v.as_deref().is_some_and(|x| x.trim().is_empty()) {
                *v = None;
            }
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_flat_and_bad() {
        let s = Settings::from_value(&serde_json::json!({"httplens": {"environment": "dev", "historySize": 5, "trace": {"server": "verbose"}}})).unwrap();
        assert_eq!(s.environment.as_deref(), Some("dev"));
        assert_eq!(s.history_size, Some(5));
        assert_eq!(s.trace.server.as_deref(), Some("verbose"));
        let s = Settings::from_value(
            &serde_json::json!({"tokenStore": "memory", "trace.server": "off"}),
        )
        .unwrap();
        assert_eq!(s.token_store.as_deref(), Some("memory"));
        assert_eq!(s.trace.server.as_deref(), Some("off"));
        assert!(Settings::from_value(&serde_json::json!({"historySize": "x"})).is_err());
        let s = Settings::from_value(&serde_json::json!({"environment": "", "tokenStore": " "}))
            .unwrap();
        assert_eq!(s, Settings::default());
    }
}
