//! The customer's way through the hybrid flow at the institution, for
//! whoever reports it (the metrics collector's hybrid-flow reports): the
//! browser arrived at the authorization page, the customer authenticated,
//! the browser is sent back to the client.

use async_trait::async_trait;
use opus_core::{Brand, ConsentId, Timestamp};
use url::Url;

/// The device the customer uses, as far as its `User-Agent` tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// `linux`, `macos`, `unix`, `windows`, `ios`, `android` or `other`.
    pub os: &'static str,
    /// The system's version, or `unknown`.
    pub os_version: String,
    /// `browser` or `app`.
    pub platform: &'static str,
}

impl Device {
    /// What `user_agent` says (`None`: nothing known).
    pub fn from_user_agent(user_agent: Option<&str>) -> Self {
        let ua = user_agent.unwrap_or_default();
        let version_after = |token: &str| -> String {
            ua.find(token)
                .map(|at| {
                    ua[at + token.len()..]
                        .chars()
                        .skip_while(|c| !c.is_ascii_digit())
                        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == '_')
                        .collect::<String>()
                        .replace('_', ".")
                })
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| "unknown".to_owned())
        };
        let (os, os_version) = if ua.contains("Android") {
            ("android", version_after("Android"))
        } else if ua.contains("iPhone") || ua.contains("iPad") {
            ("ios", version_after("OS "))
        } else if ua.contains("Windows") {
            ("windows", version_after("Windows NT"))
        } else if ua.contains("Mac OS X") {
            ("macos", version_after("Mac OS X"))
        } else if ua.contains("Linux") {
            ("linux", "unknown".to_owned())
        } else if ua.contains("BSD") || ua.contains("SunOS") {
            ("unix", "unknown".to_owned())
        } else {
            ("other", "unknown".to_owned())
        };
        // Browsers say Mozilla; the banks' apps say their own name.
        let platform = if ua.is_empty() || ua.starts_with("Mozilla/") {
            "browser"
        } else {
            "app"
        };
        Self {
            os,
            os_version,
            platform,
        }
    }
}

/// What the authorization page is waiting for when the browser lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Waiting {
    /// The customer's login.
    UserAuthentication,
    /// The customer continues on another device.
    HandOff,
}

/// One step of the hybrid flow.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FlowEvent {
    /// The browser arrived at the authorization endpoint.
    RedirectTarget {
        /// What the page waits for.
        waiting: Waiting,
        /// The authorization endpoint (without query).
        authorization_endpoint: Url,
    },
    /// The customer authenticated.
    Authenticated,
    /// The browser is sent back to the client.
    RedirectToClient {
        /// The client's redirect URI.
        callback: Url,
        /// Whether the consent was authorised.
        authorised: bool,
    },
}

/// Told of every step of every hybrid flow.
#[async_trait]
pub trait FlowObserver: Send + Sync + 'static {
    /// `event` of the flow for `consent` at `brand`, at `at`, on `device`.
    async fn observe(
        &self,
        brand: &Brand,
        consent: &ConsentId,
        device: &Device,
        event: FlowEvent,
        at: Timestamp,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_from_user_agents() {
        let android = Device::from_user_agent(Some(
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126.0 Mobile",
        ));
        assert_eq!(
            (android.os, android.os_version.as_str(), android.platform),
            ("android", "14", "browser")
        );
        let iphone = Device::from_user_agent(Some(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15",
        ));
        assert_eq!((iphone.os, iphone.os_version.as_str()), ("ios", "17.5"));
        let app = Device::from_user_agent(Some("BancoAzul/3.2 (Windows NT 10.0)"));
        assert_eq!(
            (app.os, app.os_version.as_str(), app.platform),
            ("windows", "10.0", "app")
        );
        let none = Device::from_user_agent(None);
        assert_eq!(
            (none.os, none.os_version.as_str(), none.platform),
            ("other", "unknown", "browser")
        );
    }
}
