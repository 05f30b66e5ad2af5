//! The `--tenant-map` file: which tenant the records of an export folder belong to when they do
//! not say, and optionally the tenant's name. Lines `folder = tenant-id [name]` (`=`, a tab or a
//! comma after the folder; `#` starts a comment), or a JSON object `{"folder": "tenant-id [name]"}`
//! or `{"folder": {"tenant_id": "…", "name": "…"}}`. A line whose folder does not exist, or whose
//! tenant id is no GUID, is an error naming the line.

use std::path::Path;

use serde_json::Value;

/// A tenant map as read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantMap {
    /// Folder → tenant id (lower case), in file order.
    pub folders: Vec<(String, String)>,
    /// Tenant id (lower case) → name, for the lines that give one, in file order.
    pub names: Vec<(String, String)>,
}

use tw_event::is_guid;

/// True when `folder` names something on disk (relative to the working folder, as input paths
/// are), or a folder inside an archive that exists (`archive.zip!inner/folder`).
pub fn folder_exists(folder: &str) -> bool {
    let folder = folder.trim_end_matches(['/', '\\']);
    Path::new(folder).exists()
        || folder
            .match_indices('!')
            .any(|(i, _)| Path::new(&folder[..i]).is_file())
}

/// True when `input` lies in `folder` (a map line's folder): the folder itself, a path below it,
/// or a member of the archive it names. A `!` splits only a real archive member's name, so a map
/// line for `exports/Acme` does not take in a folder named `exports/Acme!Corp`.
pub fn input_under(input: &crate::Input, folder: &str) -> bool {
    let f = folder.trim_end_matches(['/', '\\']);
    let path = input.display.as_str();
    path == f
        || path.strip_prefix(f).is_some_and(|rest| {
            rest.starts_with(['/', '\\'])
                || (rest.starts_with('!') && input.member_at == Some(f.len() + 1))
        })
}

/// Reads the map in `path`; errors name the file and line. A relative folder is taken from the
/// working folder, as input paths are; when it is not there but is beside the map (a map kept with
/// the case it describes, read from elsewhere), the map's own folder is put before it, so it
/// matches the inputs named the same way (`hunt /case/logs --tenant-map /case/tenant-map.txt`).
pub fn read_tenant_map(path: &Path) -> Result<TenantMap, String> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read --tenant-map {shown}: {e}"))?;
    let beside = path.parent().filter(|p| !p.as_os_str().is_empty());
    let resolve = |folder: &str| -> Option<String> {
        if folder_exists(folder) {
            return Some(folder.to_string());
        }
        let joined = beside
            .filter(|_| Path::new(folder).is_relative())?
            .join(folder)
            .to_string_lossy()
            .into_owned();
        folder_exists(&joined).then_some(joined)
    };
    parse_tenant_map(&text, &shown, &resolve)
}

/// Parses a map's text (`shown` names it in errors; `resolve` gives the path a folder is read
/// at, `None` when it does not exist).
pub fn parse_tenant_map(
    text: &str,
    shown: &str,
    resolve: &dyn Fn(&str) -> Option<String>,
) -> Result<TenantMap, String> {
    let mut map = TenantMap::default();
    let mut add = |at: String, folder: &str, id: &str, name: Option<&str>| {
        let folder = folder.trim();
        let id = id.trim();
        if !is_guid(id) {
            return Err(format!(
                "--tenant-map {at}: {:?} is no tenant id (a GUID); expected `folder = tenant-id [name]`",
                tw_event::escape_text(id)
            ));
        }
        let Some(folder) = resolve(folder) else {
            return Err(format!(
                "--tenant-map {at}: the folder {:?} does not exist",
                tw_event::escape_text(folder)
            ));
        };
        let id = id.to_ascii_lowercase();
        if let Some(n) = name.map(str::trim).filter(|n| !n.is_empty()) {
            map.names.push((id.clone(), n.to_string()));
        }
        map.folders.push((folder, id));
        Ok(())
    };
    if text.trim_start().starts_with('{') {
        let v: serde_json::Map<String, Value> = serde_json::from_str(text)
            .map_err(|e| format!("--tenant-map {shown} is not a JSON object: {e}"))?;
        for (folder, v) in &v {
            let at = format!("{shown}: {:?}", tw_event::escape_text(folder));
            match v {
                Value::String(s) => {
                    let (id, name) = split_id(s);
                    add(at, folder, id, name)?;
                }
                Value::Object(o) => {
                    let id = o.get("tenant_id").and_then(Value::as_str).unwrap_or("");
                    add(at, folder, id, o.get("name").and_then(Value::as_str))?;
                }
                _ => return Err(format!("--tenant-map {at}: the tenant is not a string")),
            }
        }
        return Ok(map);
    }
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = format!("{shown}:{}", n + 1);
        let Some((folder, rest)) = line.split_once(['=', '\t', ',']) else {
            return Err(format!(
                "--tenant-map {at}: expected `folder = tenant-id [name]`"
            ));
        };
        let (id, name) = split_id(rest);
        add(at, folder, id, name)?;
    }
    Ok(map)
}

/// `tenant-id [name]` → (id, name).
fn split_id(s: &str) -> (&str, Option<&str>) {
    let s = s.trim();
    match s.split_once(char::is_whitespace) {
        Some((id, name)) => (id, Some(name)),
        None => (s, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "8f2e0f4a-1c3b-4d5e-9f60-7a8b9c0d1e2f";

    #[test]
    fn lines_give_a_tenant_and_maybe_a_name() {
        let text = format!(
            "# folder = tenant [name]\nexports/granite = {} Granite Realty Ltd\nexports/old\t{T}\n",
            T.to_uppercase()
        );
        let m = parse_tenant_map(&text, "t.map", &|f| Some(f.to_string())).unwrap();
        assert_eq!(
            m.folders,
            [
                ("exports/granite".into(), T.into()),
                ("exports/old".into(), T.into())
            ]
        );
        assert_eq!(m.names, [(T.to_string(), "Granite Realty Ltd".to_string())]);
        let json = format!(r#"{{"a": "{T} Contoso", "b": {{"tenant_id": "{T}", "name": "C"}}}}"#);
        let m = parse_tenant_map(&json, "t.json", &|f| Some(f.to_string())).unwrap();
        assert_eq!(m.names.len(), 2);
    }

    #[test]
    fn a_bang_splits_only_archive_members() {
        let plain = crate::Input::from_bytes("exports/Acme!Corp/ual.json", Vec::new());
        assert!(!input_under(&plain, "exports/Acme"));
        assert!(input_under(&plain, "exports/Acme!Corp"));
        assert!(input_under(&plain, "exports/"));
        let mut member = crate::Input::from_bytes("exports/acme.zip!logs/ual.json", Vec::new());
        member.member_at = Some("exports/acme.zip!".len());
        assert!(input_under(&member, "exports/acme.zip"));
        assert!(input_under(&member, "exports/acme.zip!logs"));
        assert!(!input_under(&member, "exports/acme.zi"));
    }

    #[test]
    fn a_missing_folder_or_a_name_without_id_is_an_error_naming_the_line() {
        let text = format!("present = {T}\nmissing = {T}\n");
        let e = parse_tenant_map(&text, "t.map", &|f| (f == "present").then(|| f.to_string()))
            .unwrap_err();
        assert!(
            e.contains("t.map:2") && e.contains("\"missing\" does not exist"),
            "{e}"
        );
        let e = parse_tenant_map("present = Granite Realty\n", "t.map", &|f| {
            Some(f.to_string())
        })
        .unwrap_err();
        assert!(e.contains("t.map:1") && e.contains("no tenant id"), "{e}");
    }
}
