//! The documentation is tested like code: every `docs/codes/<ID>.md` page's example
//! triggers its code and its fix is clean, so `lint --explain` never shows advice that the
//! linter itself contradicts; every code has its row in the codes tables; the README's quick
//! start is what CI runs; and every relative link of the README and of `docs/` leads to a file
//! that exists, and every `#fragment` to a heading of its page, so moving text between pages
//! cannot leave a reader at a dead end.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use scenarist::config::Workspace;
use scenarist::diagnostic::Code;
use scenarist::lint::lint_source;
use scenarist::source::SourceFile;

use crate::support::{default_workspace, root, tempdir};

/// The first fenced block of `language` after the heading `section`.
fn block<'a>(page: &'a str, section: &str, language: &str) -> Option<&'a str> {
    let after = &page[page.find(section)? + section.len()..];
    let after = after.split("\n## ").next()?;
    let start = after.find(&format!("```{language}\n"))? + language.len() + 4;
    let end = after[start..].find("\n```")?;
    Some(&after[start..=(start + end)])
}

/// The codes of a scenario example; an example of several files (each begun by a line
/// `# file: NAME.scn`) is written to a folder and linted as a whole, as `lint scenarios/` does.
fn codes_in_scenario(text: &str) -> Vec<&'static str> {
    if text.contains("# file: ") {
        return codes_in_folder(text);
    }
    lint_source(
        "example.scn",
        text.as_bytes().to_vec(),
        &default_workspace(),
    )
    .diagnostics
    .iter()
    .map(|d| d.code.id())
    .collect()
}

fn codes_in_folder(text: &str) -> Vec<&'static str> {
    let dir = tempdir();
    let mut files = Vec::new();
    for part in text.split("# file: ").skip(1) {
        let (name, body) = part.split_once('\n').unwrap();
        let path = dir.join(name.trim());
        std::fs::write(&path, body).unwrap();
        files.push(path);
    }
    let workspace = default_workspace();
    let mut libraries = scenarist::lint::Libraries::default();
    let mut reports = Vec::new();
    let mut sources = Vec::new();
    for path in &files {
        let linted = scenarist::lint::lint_path(path, &workspace, &mut libraries).unwrap();
        if let Some(bundle) = &linted.bundle {
            sources.extend(scenarist::setup::scenario_source(
                path.clone(),
                &bundle.file,
            ));
        }
        reports.extend(linted.reports);
    }
    let library = scenarist::library::Library::load(&dir).unwrap();
    // The default config's accounts name scenarios this example does not declare: only the
    // example's own files count.
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    reports.extend(
        scenarist::setup::workspace_problems(&workspace, &sources, &library)
            .into_iter()
            .filter(|r| names.iter().any(|n| n == r.file.name())),
    );
    reports
        .iter()
        .flat_map(|r| r.diagnostics.iter().map(|d| d.code.id()))
        .collect()
}

fn codes_in_config(text: &str) -> Vec<&'static str> {
    match Workspace::parse(SourceFile::new("example.yaml", text), PathBuf::new()) {
        // A config that loads may still warn (`W406`).
        Ok(workspace) => workspace.warnings().iter().map(|d| d.code.id()).collect(),
        Err(problems) => problems.iter().map(|d| d.code.id()).collect(),
    }
}

#[test]
fn every_documented_example_triggers_its_code_and_every_fix_is_clean() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for code in Code::ALL {
        let page =
            std::fs::read_to_string(root().join(format!("docs/codes/{}.md", code.id()))).unwrap();
        for (language, lint) in [
            ("scn", codes_in_scenario as fn(&str) -> Vec<&'static str>),
            ("yaml", codes_in_config),
        ] {
            if let Some(example) = block(&page, "## Example", language) {
                checked += 1;
                let found = lint(example);
                if !found.contains(&code.id()) {
                    failures.push(format!("{}: the example reports {found:?}", code.id()));
                }
            }
            if let Some(fix) = block(&page, "## Fix", language) {
                let found = lint(fix);
                if !found.is_empty() {
                    failures.push(format!("{}: the fix reports {found:?}", code.id()));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 30, "only {checked} examples found");
}

#[test]
fn every_code_has_its_row_in_the_codes_page_and_in_the_language_reference() {
    let mut missing = Vec::new();
    for page in ["docs/codes.md", "docs/language.md"] {
        let text = std::fs::read_to_string(root().join(page)).unwrap();
        for code in Code::ALL {
            let row = format!(
                "| [{id}](codes/{id}.md) | {} |",
                code.name(),
                id = code.id()
            );
            if !text.contains(&row) {
                missing.push(format!("{page} lacks the row of {}: `{row}`", code.id()));
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn the_readme_has_a_two_command_quick_start_that_ci_runs() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let quick_start = block(&readme, "## Quick start", "sh").expect("a quick start block");
    let commands: Vec<&str> = quick_start
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(commands.len(), 2, "{commands:?}");
    let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap();
    let test_command = commands[1].split('#').next().unwrap().trim();
    assert!(
        ci.contains(&format!("exec {test_command}")),
        ".ci/run must run `{test_command}`"
    );
}

/// The Markdown files whose links are checked: the README, every page under `docs/`, and
/// the fuzzing guide.
fn markdown_pages(root: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, into: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, into);
            } else if path.extension().is_some_and(|e| e == "md") {
                into.push(path);
            }
        }
    }
    let mut pages = vec![root.join("README.md")];
    walk(&root.join("docs"), &mut pages);
    let fuzz = root.join("fuzz/README.md");
    if fuzz.exists() {
        pages.push(fuzz);
    }
    pages.sort();
    pages
}

/// The text of a Markdown page with fenced code blocks and inline code spans blanked out
/// (replaced by spaces, keeping every line break), so that only real links remain and
/// byte offsets still give the right line.
fn prose(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut fenced = false;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let fence = trimmed.starts_with("```") || trimmed.starts_with("~~~");
        if fenced || fence {
            if fence {
                fenced = !fenced;
            }
            out.extend(line.chars().map(|c| if c == '\n' { c } else { ' ' }));
        } else {
            out.push_str(line);
        }
    }
    // Inline code: a run of n backticks up to the next run of exactly n.
    let chars: Vec<char> = out.chars().collect();
    let mut result: Vec<char> = chars.clone();
    let run = |at: usize| chars[at..].iter().take_while(|&&c| c == '`').count();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '`' {
            i += 1;
            continue;
        }
        let n = run(i);
        let mut j = i + n;
        let close = loop {
            if j >= chars.len() {
                break None;
            }
            if chars[j] == '`' {
                let m = run(j);
                if m == n {
                    break Some(j);
                }
                j += m;
            } else {
                j += 1;
            }
        };
        match close {
            Some(j) => {
                for c in &mut result[i..j + n] {
                    if *c != '\n' {
                        *c = ' ';
                    }
                }
                i = j + n;
            }
            None => i += n,
        }
    }
    result.into_iter().collect()
}

/// Every link target of a page, with its line: inline links and images `[text](target)`,
/// and reference definitions `[name]: target`.
fn links(text: &str) -> Vec<(usize, String)> {
    let prose = prose(text);
    let line_of = |at: usize| prose[..at].matches('\n').count() + 1;
    let mut found = Vec::new();
    for (at, _) in prose.match_indices("](") {
        let rest = &prose[at + 2..];
        let rest = rest.trim_start_matches('<');
        let end = rest
            .find(|c: char| c == ')' || c == '>' || c.is_whitespace())
            .unwrap_or(rest.len());
        found.push((line_of(at), rest[..end].to_string()));
    }
    let mut offset = 0;
    for line in prose.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if let Some(after) = trimmed
            .strip_prefix('[')
            .and_then(|t| t.split_once("]:"))
            .map(|(_, target)| target)
        {
            if let Some(target) = after.split_whitespace().next() {
                found.push((line_of(offset), target.trim_matches(['<', '>']).to_string()));
            }
        }
        offset += line.len();
    }
    found
}

/// The anchors GitHub gives a page's headings: the heading's text without its Markdown,
/// lower-cased, without punctuation, spaces turned into hyphens; a repeated one gets `-1`,
/// `-2`, ….
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let prose_lines: Vec<String> = {
        let mut fenced = false;
        text.lines()
            .map(|line| {
                let trimmed = line.trim_start();
                if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
                    fenced = !fenced;
                    return String::new();
                }
                if fenced {
                    String::new()
                } else {
                    line.to_string()
                }
            })
            .collect()
    };
    for line in prose_lines {
        let hashes = line.chars().take_while(|&c| c == '#').count();
        if hashes == 0 || hashes > 6 || !line[hashes..].starts_with(' ') {
            continue;
        }
        let title = line[hashes..].trim().trim_end_matches('#').trim();
        let slug: String = title
            .to_lowercase()
            .chars()
            .filter(|&c| c.is_alphanumeric() || c == '-' || c == '_' || c == ' ')
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        let mut anchor = slug.clone();
        let mut n = 0;
        while seen.contains(&anchor) {
            n += 1;
            anchor = format!("{slug}-{n}");
        }
        seen.insert(anchor);
    }
    seen
}

/// `path` with its `.` and `..` resolved without touching the disk; `None` if a `..` climbs
/// above its start.
fn normalize(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            other => out.push(other),
        }
    }
    Some(out)
}

/// Every relative link of `pages` that leads nowhere — to a missing file or folder, out of
/// `root`, or (with `#fragment`, on a Markdown page) to a heading the page does not have —
/// as `page:line: target (why)`; and how many links were checked.
fn dead_links(root: &Path, pages: &[PathBuf]) -> (usize, Vec<String>) {
    let mut checked = 0;
    let mut dead = Vec::new();
    for page in pages {
        let text = std::fs::read_to_string(page).unwrap();
        let name = page
            .strip_prefix(root)
            .unwrap_or(page)
            .display()
            .to_string();
        for (line, target) in links(&text) {
            if target.starts_with("http://")
                || target.starts_with("https://")
                || target.starts_with("mailto:")
            {
                continue;
            }
            checked += 1;
            let (file, fragment) = match target.split_once('#') {
                Some((file, fragment)) => (file, Some(fragment)),
                None => (target.as_str(), None),
            };
            let mut why = None;
            let resolved = if file.is_empty() {
                Some(page.clone())
            } else if Path::new(file).is_absolute() {
                why = Some("an absolute path: write it relative to the page".to_string());
                None
            } else {
                let inside = page
                    .parent()
                    .and_then(|dir| dir.strip_prefix(root).ok())
                    .and_then(|dir| normalize(&dir.join(file)));
                match inside {
                    None => {
                        why = Some("leads out of the repository".to_string());
                        None
                    }
                    Some(relative) if !root.join(&relative).exists() => {
                        why = Some(format!("{} does not exist", relative.display()));
                        None
                    }
                    Some(relative) => Some(root.join(relative)),
                }
            };
            if let (Some(target_page), Some(fragment)) = (&resolved, fragment) {
                if target_page.extension().is_some_and(|e| e == "md") {
                    let headings = anchors(&std::fs::read_to_string(target_page).unwrap());
                    if !headings.contains(fragment) {
                        why = Some(format!(
                            "{} has no heading with the anchor #{fragment}",
                            target_page
                                .strip_prefix(root)
                                .unwrap_or(target_page)
                                .display()
                        ));
                    }
                }
            }
            if let Some(why) = why {
                dead.push(format!("{name}:{line}: ({target}) {why}"));
            }
        }
    }
    (checked, dead)
}

#[test]
fn every_relative_link_of_the_readme_and_the_docs_leads_somewhere() {
    let root = root();
    let pages = markdown_pages(&root);
    assert!(
        pages.iter().any(|p| p.ends_with("docs/security.md")),
        "{pages:?}"
    );
    let (checked, dead) = dead_links(&root, &pages);
    assert!(
        dead.is_empty(),
        "{} dead links:\n{}",
        dead.len(),
        dead.join("\n")
    );
    assert!(
        checked > 200,
        "only {checked} links found: is the link reader broken?"
    );
}

#[test]
fn every_docs_page_has_a_title_and_is_linked_from_the_readme_and_back() {
    let root = root();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let from_readme: BTreeSet<String> = links(&readme)
        .into_iter()
        .map(|(_, target)| target.split('#').next().unwrap_or_default().to_string())
        .collect();
    let mut problems = Vec::new();
    let mut pages = 0;
    for entry in std::fs::read_dir(root.join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "md") {
            continue;
        }
        pages += 1;
        let name = format!("docs/{}", path.file_name().unwrap().to_string_lossy());
        let text = std::fs::read_to_string(&path).unwrap();
        if !text.starts_with("# ") {
            problems.push(format!("{name} does not start with a `# Title` line"));
        }
        if !from_readme.contains(&name) {
            problems.push(format!("README.md does not link to {name}"));
        }
        let back = links(&text)
            .iter()
            .any(|(_, target)| target.starts_with("../README.md"));
        if !back {
            problems.push(format!("{name} has no link back to ../README.md"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(pages >= 11, "only {pages} pages in docs/");
}

#[test]
fn the_link_check_finds_every_dead_link_and_nothing_else() {
    let root = tempdir();
    std::fs::create_dir_all(root.join("docs/codes")).unwrap();
    std::fs::write(root.join("docs/codes/C101.md"), "# C101\n").unwrap();
    std::fs::write(
        root.join("docs/guide.md"),
        "# Guide\n\n## Sending twice: `Idempotency-Key`\n\n## Sending twice: `Idempotency-Key`\n",
    )
    .unwrap();
    std::fs::write(root.join("schema.json"), "{}").unwrap();
    std::fs::write(
        root.join("README.md"),
        "# Project\n\
         [guide](docs/guide.md#sending-twice-idempotency-key) and [again](docs/guide.md#sending-twice-idempotency-key-1),\n\
         [a code](docs/codes/C101.md), [the folder](docs/codes/), [the schema](<schema.json>),\n\
         [web](https://example.com/missing) [mail](mailto:a@example.com) [top](#project)\n\
         `[in code](missing-in-code.md)`\n\
         ```md\n[in a block](missing-in-block.md)\n```\n\
         [gone](docs/gone.md) [a wrapped\nlink](docs/codes/C102.md#why)\n\
         [no such heading](docs/guide.md#nowhere) [here](#nowhere-either)\n\
         [out](../outside.md) [absolute](/etc/passwd)\n\
         [ref]: docs/ref-gone.md\n",
    )
    .unwrap();
    std::fs::write(
        root.join("docs/guide.md"),
        "# Guide\n\n## Sending twice: `Idempotency-Key`\n\n## Sending twice: `Idempotency-Key`\n\n\
         [back](../README.md#project) [codes](codes/C101.md) [up and gone](../gone.md)\n",
    )
    .unwrap();
    let pages = markdown_pages(&root);
    let (checked, dead) = dead_links(&root, &pages);
    assert_eq!(
        dead,
        [
            "README.md:9: (docs/gone.md) docs/gone.md does not exist",
            "README.md:10: (docs/codes/C102.md#why) docs/codes/C102.md does not exist",
            "README.md:11: (docs/guide.md#nowhere) docs/guide.md has no heading with the anchor #nowhere",
            "README.md:11: (#nowhere-either) README.md has no heading with the anchor #nowhere-either",
            "README.md:12: (../outside.md) leads out of the repository",
            "README.md:12: (/etc/passwd) an absolute path: write it relative to the page",
            "README.md:13: (docs/ref-gone.md) docs/ref-gone.md does not exist",
            "docs/guide.md:7: (../gone.md) gone.md does not exist",
        ],
        "checked {checked}"
    );
    assert_eq!(checked, 16);
    std::fs::remove_dir_all(&root).unwrap();
}

/// The `service:` defaults the operations page documents are the ones the code applies.
#[test]
fn the_documented_service_defaults_are_the_real_ones() {
    let defaults = scenarist::config::ServiceConfig::default();
    let expected = [
        ("listen", defaults.listen.clone()),
        ("token_env", defaults.token_env.clone()),
        ("max_body_bytes", defaults.max_body_bytes.to_string()),
        (
            "request_timeout_ms",
            defaults.request_timeout_ms.to_string(),
        ),
        ("header_timeout_ms", defaults.header_timeout_ms.to_string()),
        ("idle_timeout_ms", defaults.idle_timeout_ms.to_string()),
        ("max_connections", defaults.max_connections.to_string()),
        (
            "max_requests_per_second",
            defaults.max_requests_per_second.to_string(),
        ),
        (
            "max_zendesk_requests_per_second",
            defaults.max_zendesk_requests_per_second.to_string(),
        ),
        ("public_metrics", defaults.public_metrics.to_string()),
    ];
    let page = std::fs::read_to_string(root().join("docs/operations.md")).unwrap();
    let mut wrong = Vec::new();
    for (key, value) in expected {
        let row = format!("| `{key}` | ");
        let documented = page
            .lines()
            .find_map(|line| line.strip_prefix(&row))
            .and_then(|rest| rest.split_whitespace().next())
            .map(|cell| cell.trim_matches('`').to_owned());
        if documented.as_deref() != Some(value.as_str()) {
            wrong.push(format!(
                "{key}: documented {documented:?}, the code says {value}"
            ));
        }
    }
    assert!(wrong.is_empty(), "docs/operations.md: {}", wrong.join("; "));
}
