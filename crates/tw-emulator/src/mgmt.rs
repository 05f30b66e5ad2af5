//! The emulated Office 365 Management Activity API: `subscriptions/start`, `subscriptions/content`
//! (at most 24 hours, within the last 7 days of the emulator's "now", paged by `NextPageUri`),
//! and content blobs (one per content type and hour, created at the end of the hour; with the
//! duplicate fault each blob repeats the last record of the hour before, as the API may).

use crate::data::{CONTENT_TYPES, TenantData};
use crate::routes::{Api, blobs, content_type_index, enc, parse_time};
use crate::server::{Reply, Req};

const DAY: i64 = 86_400_000;

fn error(code: &str, msg: &str) -> Reply {
    let body = serde_json::json!({"error": {"code": code, "message": msg}}).to_string();
    Reply::Send(400, vec![], body)
}

/// Answers a `/api/v1.0/{tenant}/activity/feed/...` request.
pub fn route(api: &Api, t: &TenantData, req: &Req, p: &str, q: &[(String, String)]) -> Reply {
    let get = |k: &str| q.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str());
    let rest = p.trim_start_matches("/api/v1.0/");
    let (tenant, rest) = rest.split_once('/').unwrap_or((rest, ""));
    if !tenant.eq_ignore_ascii_case(&t.id) {
        return Reply::Send(403, vec![], r#"{"error":{"code":"AF10001","message":"The permission set does not contain the expected role."}}"#.into());
    }
    let ct = get("contentType").unwrap_or("");
    match (req.method.as_str(), rest) {
        ("POST", "activity/feed/subscriptions/start") => {
            if content_type_index(ct).is_none() {
                return error("AF20023", "The subscription's content type is invalid.");
            }
            if !api.start_subscription(&t.id, ct) {
                return error(
                    "AF20024",
                    "The subscription is already enabled. No property change.",
                );
            }
            let body = serde_json::json!({"contentType": ct, "status": "enabled", "webhook": null});
            Reply::Send(200, vec![], body.to_string())
        }
        ("GET", "activity/feed/subscriptions/content") => list(api, t, p, q, ct),
        ("GET", r) if r.starts_with("activity/feed/audit/") => blob(api, t, r),
        _ => error("AF20000", "Unsupported request."),
    }
}

fn list(api: &Api, t: &TenantData, p: &str, q: &[(String, String)], ct: &str) -> Reply {
    let get = |k: &str| q.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str());
    let Some(ci) = content_type_index(ct) else {
        return error("AF20023", "The content type is invalid.");
    };
    if !api.subscribed(&t.id, ct) {
        return error(
            "AF20022",
            "No subscription found for the specified content type.",
        );
    }
    let s = get("startTime").and_then(parse_time);
    let e = get("endTime").and_then(parse_time);
    let (Some(s), Some(e)) = (s, e) else {
        return error("AF20055", "Start time and end time must both be specified.");
    };
    if e <= s || e - s > DAY {
        return error(
            "AF20055",
            "Start time and end time must be less than or equal to 24 hours apart.",
        );
    }
    if s < api.faults.now - 7 * DAY {
        return error(
            "AF20055",
            "Start time cannot be more than 7 days in the past.",
        );
    }
    let all = blobs(t, ci, s, e, api.faults.duplicate_blobs);
    let from: usize = get("nextPage").and_then(|v| v.parse().ok()).unwrap_or(0);
    let per = api.faults.listing_page.max(1);
    let end = (from + per).min(all.len());
    let items: Vec<serde_json::Value> = all[from.min(end)..end]
        .iter()
        .map(|(h, _)| {
            let created = crate::format_time((h + 1) * 3_600_000);
            serde_json::json!({
                "contentType": ct, "contentId": format!("{ci}${h}"),
                "contentUri": format!("{}/api/v1.0/{}/activity/feed/audit/{ci}${h}", api.base, t.id),
                "contentCreated": created, "contentExpiration": crate::format_time((h + 1) * 3_600_000 + 7 * DAY)
            })
        })
        .collect();
    let mut headers = Vec::new();
    if end < all.len() {
        let kept: Vec<String> = q
            .iter()
            .filter(|(k, _)| k != "nextPage")
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect();
        headers.push((
            "NextPageUri".to_string(),
            format!("{}{}?{}&nextPage={end}", api.base, p, kept.join("&")),
        ));
    }
    Reply::Send(200, headers, serde_json::Value::from(items).to_string())
}

fn blob(api: &Api, t: &TenantData, r: &str) -> Reply {
    let id = r.trim_start_matches("activity/feed/audit/");
    let parsed = id
        .split_once('$')
        .and_then(|(c, h)| Some((c.parse::<usize>().ok()?, h.parse::<i64>().ok()?)));
    let Some((ci, h)) = parsed.filter(|(c, _)| *c < CONTENT_TYPES.len()) else {
        return error("AF20051", "Content requested with the key does not exist.");
    };
    let hour = 3_600_000;
    let b = blobs(
        t,
        ci,
        (h + 1) * hour,
        (h + 1) * hour + 1,
        api.faults.duplicate_blobs,
    );
    let recs: Vec<&str> = b
        .first()
        .map(|(_, v)| v.iter().map(|r| r.json.as_str()).collect())
        .unwrap_or_default();
    Reply::Send(200, vec![], format!("[{}]", recs.join(",")))
}
