//! # tw-analyze
//!
//! Analysis over the event and finding streams. Today: the **blast radius** of a compromised
//! partner, user, application or address across every tenant in the inputs ([`blast()`]).
//!
//! Starting from seed indicators ([`Seed`]), two streaming passes over the logs follow the
//! compromise from tenant to tenant:
//! 1. pass 1 collects compact facts per identity and address (which identities used which
//!    address, credentials and permissions given to applications, application sign-ins and the
//!    credential they used, partner access per tenant) and expands the indicator set with a
//!    documented, depth-limited linking rule ([`blast::LINKING_RULE`]); every expansion is a
//!    [`Pivot`] that says why it was taken;
//! 2. pass 2 collects the evidence for the final indicator set: every record tied to the
//!    attacker's infrastructure, to an attacker-added credential or to a finding. Pass 1 notes
//!    which records can be such evidence, so pass 2 reads only the inputs holding them and
//!    decodes only those records. Pass 1 does not depend on the seeds: a caller that reads the
//!    same inputs for another purpose (the hunt) can run it on that read ([`Gathered`]) and then
//!    call [`blast_gathered`].
//!
//! Memory grows with the number of distinct identities, addresses and evidence records, and by
//! 32 bytes per record with an identity, an address or a sign-in credential (the index of
//! records that can be evidence). A tenant is `affected` only where malicious activity is found; a
//! tenant the partner (or the compromised identity) could reach without malicious activity is
//! `access_no_activity`, with the time range the logs cover; every other tenant is `not_reached`.
//!
//! ```
//! use tw_analyze::{blast, BlastOptions, Seed};
//!
//! let dir = std::env::temp_dir().join(format!("tw-analyze-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! std::fs::write(
//!     dir.join("ual.json"),
//!     r#"{"CreationTime":"2020-12-14T03:12:44","Operation":"MailItemsAccessed","RecordType":50,"OrganizationId":"11111111-2222-3333-4444-555555555555","UserId":"adele@contoso.com","MailboxOwnerUPN":"adele@contoso.com","ClientIPAddress":"203.0.113.9"}"#,
//! ).unwrap();
//! let r = blast(&[dir.clone()], &[Seed::Ip("203.0.113.9".into())], &BlastOptions::default());
//! assert_eq!(r.tenants[0].status.as_str(), "affected");
//! assert_eq!(r.tenants[0].mailboxes_read, vec!["adele@contoso.com".to_string()]);
//! # std::fs::remove_dir_all(&dir).ok();
//! ```

pub mod blast;
pub mod facts;
pub mod gather;
pub mod inputs;
pub mod link;
pub mod model;
pub mod records;
pub mod verdict;

pub use blast::{BlastOptions, Gathered, blast, blast_gathered, observe, parse_findings_jsonl};
pub use gather::Fact;
pub use inputs::{InputProblems, UnreadFile};
pub use model::{
    BlastResult, Coverage, EvidenceRow, FindingSeed, ObjectChange, Pivot, Seed, SeedMatch, Status,
    TenantBlast,
};
