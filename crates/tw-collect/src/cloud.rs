//! The national clouds: where each one's login, Microsoft Graph and Office 365 Management
//! Activity API endpoints are (Microsoft's "national cloud deployments" and Management Activity
//! API reference pages), and the endpoints a run uses after `--login-url`, `--graph-url` and
//! `--manage-url` overrides.

/// One cloud's endpoints, without trailing slashes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoints {
    /// Microsoft Entra ID token endpoint host.
    pub login: String,
    /// Microsoft Graph.
    pub graph: String,
    /// Office 365 Management Activity API.
    pub manage: String,
}

/// The names `--cloud` accepts.
pub const CLOUDS: &[&str] = &["global", "usgov", "usgovhigh", "dod", "china"];

impl Endpoints {
    /// The endpoints of a named cloud (`None` for an unknown name).
    pub fn preset(cloud: &str) -> Option<Endpoints> {
        let (login, graph, manage) = match cloud {
            "global" => (
                "https://login.microsoftonline.com",
                "https://graph.microsoft.com",
                "https://manage.office.com",
            ),
            // GCC: Entra ID and Graph of the worldwide cloud, its own Management API host.
            "usgov" => (
                "https://login.microsoftonline.com",
                "https://graph.microsoft.com",
                "https://manage-gcc.office.com",
            ),
            "usgovhigh" => (
                "https://login.microsoftonline.us",
                "https://graph.microsoft.us",
                "https://manage.office365.us",
            ),
            "dod" => (
                "https://login.microsoftonline.us",
                "https://dod-graph.microsoft.us",
                "https://manage.protection.apps.mil",
            ),
            "china" => (
                "https://login.chinacloudapi.cn",
                "https://microsoftgraph.chinacloudapi.cn",
                "https://manage.office.cn",
            ),
            _ => return None,
        };
        Some(Endpoints {
            login: login.into(),
            graph: graph.into(),
            manage: manage.into(),
        })
    }

    /// A preset with any of its endpoints replaced.
    pub fn with_overrides(
        mut self,
        login: Option<&str>,
        graph: Option<&str>,
        manage: Option<&str>,
    ) -> Endpoints {
        let clean = |s: &str| s.trim_end_matches('/').to_string();
        if let Some(v) = login {
            self.login = clean(v);
        }
        if let Some(v) = graph {
            self.graph = clean(v);
        }
        if let Some(v) = manage {
            self.manage = clean(v);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_and_overrides() {
        for c in CLOUDS {
            let e = Endpoints::preset(c).unwrap();
            assert!(e.login.starts_with("https://") && !e.graph.ends_with('/'));
        }
        assert!(Endpoints::preset("mars").is_none());
        let e = Endpoints::preset("usgovhigh").unwrap().with_overrides(
            None,
            Some("http://127.0.0.1:9/"),
            None,
        );
        assert_eq!(e.graph, "http://127.0.0.1:9");
        assert_eq!(e.login, "https://login.microsoftonline.us");
    }
}
