//! # tw-detect
//!
//! What tenantwatch runs against events and how: the shipped per-format field maps
//! ([`fieldmap`], from `pipelines/<format>.yml`), the routing of Sigma log sources to log kinds
//! ([`route`]), the event adapter the Sigma engine reads through ([`event`], including the `tw.*`
//! canonical fields), the built-in rule pack ([`builtin`]), the `tenantwatch.first_seen` and
//! `tenantwatch.new_behaviour` rule extensions ([`firstseen`]), the raw-record prefilter
//! ([`prefilter`], [`scan`]) and the hunt runner ([`hunt`]).
//!
//! ```
//! use tw_detect::{Hunter, HuntOptions, RuleSource};
//! use tw_event::Origin;
//!
//! let rule = RuleSource {
//!     path: "consent.yml".into(),
//!     origin: Origin::User,
//!     text: "title: Admin consent\nid: 6c3b5f35-0f33-4f4b-9d43-000000000001\nlevel: high\n\
//!            logsource: {product: azure, service: auditlogs}\n\
//!            detection: {sel: {properties.message: Consent to application}, condition: sel}\n".into(),
//! };
//! let hunter = Hunter::new(&[rule], Default::default()).unwrap();
//! assert!(hunter.rule_set().errors().is_empty());
//! // On a Graph directoryAudits export the rule reads `activityDisplayName`:
//! let dir = std::env::temp_dir().join(format!("tw-detect-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! std::fs::write(dir.join("audits.json"), r#"{"value":[{"id":"Directory_1","activityDateTime":"2020-12-14T03:12:44Z","activityDisplayName":"Consent to application","loggedByService":"Core Directory","result":"success","initiatedBy":{"user":{"userPrincipalName":"admin@contoso.com"}},"targetResources":[]}]}"#).unwrap();
//! let result = hunter.hunt(&[dir.clone()], &HuntOptions::default());
//! assert_eq!(result.findings.len(), 1);
//! assert_eq!(result.findings[0].actor.user.as_deref(), Some("admin@contoso.com"));
//! # std::fs::remove_dir_all(&dir).ok();
//! ```

pub mod appid;
pub mod builtin;
pub mod burst;
pub mod chain;
pub mod event;
pub mod fieldmap;
pub mod firstseen;
pub mod hunt;
pub mod merge;
pub mod newaddr;
pub mod pipelines;
pub mod prefilter;
pub mod raise;
pub mod route;
pub mod scan;
pub mod stages;

pub use builtin::builtin_rules;
pub use hunt::{
    HitFindings, HitRecord, HuntOptions, HuntResult, HuntStats, Hunter, Observer, RuleSource,
    origin_of_path,
};
pub use pipelines::{PIPELINES, pipeline_for};
