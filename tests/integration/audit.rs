//! The dependency audit: every package in `Cargo.lock` against the Rust security advisory
//! database (`rustsec/advisory-db`), with the advisories the project accepts — each with its
//! reason — in `audit-policy.toml`.
//!
//! The database is an offline snapshot of its `crates/` folder (one Markdown file per advisory,
//! TOML front matter first), at `../shared/reference/advisory-db/` beside the repository, or
//! wherever `SCENARIST_ADVISORY_DB` says. A missing or empty database fails the audit: it never
//! passes by having nothing to compare with.
//!
//! A checker of our own rather than cargo-deny or cargo-audit: `cargo install --locked
//! cargo-deny` took 4 minutes on a 2-core machine, on every fresh CI machine, and cargo-deny
//! 0.20 still wants the database as a git clone (it runs `git show HEAD` on it) where the
//! snapshot is a plain folder. This is a few hundred lines inside the test binary that is built
//! anyway, and on the snapshot it finds what cargo-deny finds (fxhash and instant, today).
//!
//! What applies: an advisory about a package (by name, from a registry or git — the project's
//! own crates have no source) whose version none of the advisory's `patched` or `unaffected`
//! ranges holds, unless the advisory was withdrawn. Versions are compared by plain semver
//! precedence (`>= 0.8.4` holds `0.9.0-rc1`), as the `rustsec` crate reads them; cargo's rule
//! that a range holds pre-releases only of its own version is for choosing versions, not this.
//!
//! What fails: every advisory that applies, of every kind — vulnerabilities and informational
//! ones (`unmaintained`, `unsound`, `notice`) alike — unless the policy accepts it; and every
//! policy entry that is unknown, names the wrong crate, has no reason, repeats, or applies to
//! nothing any more (so the policy cannot go stale). Advisories limited to some operating
//! systems or architectures (`[affected] os/arch`) apply everywhere here: the policy says why
//! one does not matter.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use semver::{BuildMetadata, Comparator, Op, Prerelease, Version, VersionReq};
use serde::Deserialize;

use crate::support::{root, tempdir};

/// The variable that names the advisory database when it is not beside the repository.
const DB_ENV: &str = "SCENARIST_ADVISORY_DB";
const POLICY: &str = "audit-policy.toml";

// ---------------------------------------------------------------------------------------------
// Cargo.lock

/// One `[[package]]` of a lock file.
struct Package {
    name: String,
    version: Version,
    /// `None` for the project's own crates.
    source: Option<String>,
    /// As written: `name`, `name version` or `name version (source)`.
    dependencies: Vec<String>,
}

struct Lock {
    packages: Vec<Package>,
}

#[derive(Deserialize)]
struct LockFile {
    #[serde(default)]
    package: Vec<LockPackage>,
}

#[derive(Deserialize)]
struct LockPackage {
    name: String,
    version: String,
    source: Option<String>,
    #[serde(default)]
    dependencies: Vec<String>,
}

impl Lock {
    fn parse(text: &str, origin: &str) -> Result<Self, String> {
        let file: LockFile = toml::from_str(text)
            .map_err(|e| format!("{origin} is not a readable lock file: {e}"))?;
        let packages = file
            .package
            .into_iter()
            .map(|p| {
                let version = Version::parse(&p.version).map_err(|e| {
                    format!(
                        "{origin}: package {} has version {:?}: {e}",
                        p.name, p.version
                    )
                })?;
                Ok(Package {
                    name: p.name,
                    version,
                    source: p.source,
                    dependencies: p.dependencies,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        if packages.is_empty() {
            return Err(format!("{origin} lists no package"));
        }
        Ok(Self { packages })
    }

    /// How the project reaches package `target`: `scenarist → sled 0.34.7 → fxhash 0.2.1`.
    fn chain(&self, target: usize) -> String {
        let mut parent: BTreeMap<usize, usize> = BTreeMap::new();
        let mut queue: VecDeque<usize> = (0..self.packages.len())
            .filter(|&i| self.packages[i].source.is_none())
            .collect();
        let mut seen: BTreeSet<usize> = queue.iter().copied().collect();
        while let Some(at) = queue.pop_front() {
            if at == target {
                break;
            }
            for dependency in &self.packages[at].dependencies {
                for next in self.resolve(dependency) {
                    if seen.insert(next) {
                        parent.insert(next, at);
                        queue.push_back(next);
                    }
                }
            }
        }
        let mut steps = vec![target];
        while let Some(&up) = parent.get(steps.last().unwrap_or(&target)) {
            steps.push(up);
        }
        steps
            .iter()
            .rev()
            .map(|&i| {
                let p = &self.packages[i];
                if p.source.is_none() {
                    p.name.clone()
                } else {
                    format!("{} {}", p.name, p.version)
                }
            })
            .collect::<Vec<_>>()
            .join(" → ")
    }

    /// The packages a `dependencies` entry can mean (one, in a well-formed lock).
    fn resolve(&self, entry: &str) -> Vec<usize> {
        let mut words = entry.split_whitespace();
        let name = words.next().unwrap_or_default();
        let version = words.next();
        (0..self.packages.len())
            .filter(|&i| {
                let p = &self.packages[i];
                p.name == name && version.is_none_or(|v| p.version.to_string() == v)
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// The advisory database

struct Advisory {
    id: String,
    package: String,
    /// `None` for a vulnerability; else `unmaintained`, `unsound` or `notice`.
    informational: Option<String>,
    withdrawn: bool,
    /// `patched` and `unaffected` together: the versions the advisory does not affect.
    safe: Vec<VersionReq>,
    patched: Vec<String>,
    title: String,
    file: PathBuf,
}

#[derive(Deserialize)]
struct AdvisoryFile {
    advisory: AdvisoryMeta,
    #[serde(default)]
    versions: Versions,
}

#[derive(Deserialize)]
struct AdvisoryMeta {
    id: String,
    package: String,
    informational: Option<String>,
    withdrawn: Option<toml::Value>,
}

#[derive(Default, Deserialize)]
struct Versions {
    #[serde(default)]
    patched: Vec<String>,
    #[serde(default)]
    unaffected: Vec<String>,
}

impl Advisory {
    /// Reads one advisory file: a ```` ```toml ```` front matter block, then Markdown whose
    /// first `# ` heading is the title.
    fn parse(text: &str, file: &Path) -> Result<Self, String> {
        let place = file.display();
        let body = text
            .trim_start()
            .strip_prefix("```toml")
            .ok_or_else(|| format!("{place}: does not start with a ```toml front matter block"))?;
        let (front, rest) = body
            .split_once("\n```")
            .ok_or_else(|| format!("{place}: its ```toml front matter block is not closed"))?;
        let parsed: AdvisoryFile =
            toml::from_str(front).map_err(|e| format!("{place}: unreadable front matter: {e}"))?;
        let ranges = |list: &[String]| {
            list.iter()
                .map(|r| {
                    let range = VersionReq::parse(r)
                        .map_err(|e| format!("{place}: version range {r:?} is not semver: {e}"))?;
                    match range
                        .comparators
                        .iter()
                        .find(|c| holds(c, &Version::new(0, 0, 0)).is_none())
                    {
                        Some(c) => Err(format!(
                            "{place}: version range {r:?}: unknown operator in {c}"
                        )),
                        None => Ok(range),
                    }
                })
                .collect::<Result<Vec<_>, String>>()
        };
        let mut safe = ranges(&parsed.versions.patched)?;
        safe.extend(ranges(&parsed.versions.unaffected)?);
        let title = rest
            .lines()
            .find_map(|line| line.strip_prefix("# "))
            .unwrap_or("(no title)")
            .trim()
            .to_owned();
        Ok(Self {
            id: parsed.advisory.id,
            package: parsed.advisory.package,
            informational: parsed.advisory.informational.map(|k| k.trim().to_owned()),
            withdrawn: parsed.advisory.withdrawn.is_some(),
            safe,
            patched: parsed.versions.patched,
            title,
            file: file.to_path_buf(),
        })
    }

    /// Whether `version` is affected: no `patched` or `unaffected` range holds it.
    fn affects(&self, version: &Version) -> bool {
        !self.safe.iter().any(|range| {
            range
                .comparators
                .iter()
                .all(|c| holds(c, version) == Some(true))
        })
    }

    fn kind(&self) -> &str {
        self.informational.as_deref().unwrap_or("vulnerability")
    }
}

/// Whether comparator `c` holds for `v` by plain semver precedence, where a pre-release comes
/// just before its release (`1.0.0-rc1 < 1.0.0`) and build metadata counts for nothing. Unlike
/// `Comparator::matches`, a pre-release is not refused for lacking a pre-release comparator of its
/// own version: `>= 0.8.4` holds `0.9.0-rc1`. A partial version spans every version it names:
/// `<= 1.2` holds `1.2.9`, `> 1.2` starts at `1.3.0-0` (the least version after every 1.2.x).
/// `None` for an operator this checker does not know (semver's `Op` may grow).
fn holds(c: &Comparator, v: &Version) -> Option<bool> {
    let at = |major, minor, patch, pre: Prerelease| Version {
        major,
        minor,
        patch,
        pre,
        build: BuildMetadata::EMPTY,
    };
    let v = at(v.major, v.minor, v.patch, v.pre.clone());
    let base = at(
        c.major,
        c.minor.unwrap_or(0),
        c.patch.unwrap_or(0),
        c.pre.clone(),
    );
    // The least version after every one that `c`'s numbers name (a `-0` pre-release is the
    // least of all); for a full version, the one after it.
    let first = Prerelease::new("0").ok()?;
    let past = match (c.minor, c.patch) {
        (Some(minor), Some(patch)) => at(c.major, minor, patch + 1, first.clone()),
        (Some(minor), None) => at(c.major, minor + 1, 0, first.clone()),
        (None, _) => at(c.major + 1, 0, 0, first.clone()),
    };
    let full = c.minor.is_some() && c.patch.is_some();
    Some(match c.op {
        Op::GreaterEq => v >= base,
        Op::Greater if full => v > base,
        Op::Greater => v >= past,
        Op::Less => v < base,
        Op::LessEq if full => v <= base,
        Op::LessEq => v < past,
        Op::Exact | Op::Wildcard if full => v == base,
        Op::Exact | Op::Wildcard => base <= v && v < past,
        Op::Tilde => {
            let end = match c.minor {
                Some(minor) => at(c.major, minor + 1, 0, first),
                None => at(c.major + 1, 0, 0, first),
            };
            base <= v && v < end
        }
        Op::Caret => {
            let end = match (c.major, c.minor, c.patch) {
                (0, Some(0), Some(patch)) => at(0, 0, patch + 1, first),
                (0, Some(minor), _) => at(0, minor + 1, 0, first),
                (major, _, _) => at(major + 1, 0, 0, first),
            };
            base <= v && v < end
        }
        _ => return None,
    })
}

struct Db {
    dir: PathBuf,
    advisories: Vec<Advisory>,
}

impl Db {
    /// Every advisory under `dir/crates/<package>/*.md`.
    fn load(dir: &Path) -> Result<Self, String> {
        let crates = dir.join("crates");
        let missing = || {
            format!(
                "the RustSec advisory database is not at {}: the audit needs its crates/ folder \
                 there (shared/reference/advisory-db beside the repository, see \
                 shared/README.md), or set {DB_ENV} to the folder that holds crates/",
                dir.display()
            )
        };
        let folders = std::fs::read_dir(&crates).map_err(|e| format!("{} ({e})", missing()))?;
        let mut advisories = Vec::new();
        for folder in folders {
            let folder = folder.map_err(|e| format!("cannot list {}: {e}", crates.display()))?;
            let path = folder.path();
            if !path.is_dir() {
                continue;
            }
            let files = std::fs::read_dir(&path)
                .map_err(|e| format!("cannot list {}: {e}", path.display()))?;
            for file in files {
                let file = file
                    .map_err(|e| format!("cannot list {}: {e}", path.display()))?
                    .path();
                if file.extension().is_some_and(|e| e == "md") {
                    let text = std::fs::read_to_string(&file)
                        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
                    advisories.push(Advisory::parse(&text, &file)?);
                }
            }
        }
        if advisories.is_empty() {
            return Err(format!("{} (it holds no advisory)", missing()));
        }
        advisories.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(Self {
            dir: dir.to_path_buf(),
            advisories,
        })
    }

    fn get(&self, id: &str) -> Option<&Advisory> {
        self.advisories.iter().find(|a| a.id == id)
    }
}

/// Where the database is: `$SCENARIST_ADVISORY_DB` when set, else beside the repository.
fn db_dir(env: Option<OsString>, repository: &Path) -> PathBuf {
    env.map_or_else(
        || repository.join("../shared/reference/advisory-db"),
        PathBuf::from,
    )
}

/// The real database, read once for every test.
fn db() -> &'static Db {
    static DB: OnceLock<Db> = OnceLock::new();
    DB.get_or_init(|| {
        Db::load(&db_dir(std::env::var_os(DB_ENV), &root())).unwrap_or_else(|e| panic!("{e}"))
    })
}

// ---------------------------------------------------------------------------------------------
// The policy

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Policy {
    #[serde(default)]
    accept: Vec<Accept>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Accept {
    id: String,
    #[serde(rename = "crate")]
    krate: String,
    reason: String,
}

impl Policy {
    fn parse(text: &str, origin: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| {
            format!(
                "{origin} is not a valid audit policy: {e}\n(expected [[accept]] entries, each \
                 with id, crate and reason)"
            )
        })
    }
}

// ---------------------------------------------------------------------------------------------
// The audit

/// An advisory that applies to a package of the lock.
struct Finding<'a> {
    advisory: &'a Advisory,
    /// `name version`.
    package: String,
    chain: String,
}

struct Report<'a> {
    /// Applies and is not accepted: fails.
    denied: Vec<Finding<'a>>,
    /// Applies and is accepted, with the policy's reason.
    accepted: Vec<(Finding<'a>, String)>,
    /// What is wrong with the policy itself: fails.
    policy: Vec<String>,
}

fn audit<'a>(lock: &Lock, db: &'a Db, policy: &Policy) -> Report<'a> {
    let mut findings = Vec::new();
    for (index, package) in lock.packages.iter().enumerate() {
        if package.source.is_none() {
            continue;
        }
        for advisory in db.advisories.iter().filter(|a| a.package == package.name) {
            if !advisory.withdrawn && advisory.affects(&package.version) {
                findings.push(Finding {
                    advisory,
                    package: format!("{} {}", package.name, package.version),
                    chain: lock.chain(index),
                });
            }
        }
    }

    let mut problems = Vec::new();
    let mut ids = BTreeSet::new();
    for entry in &policy.accept {
        let at = format!("{POLICY} accepts {}", entry.id);
        if !ids.insert(entry.id.as_str()) {
            problems.push(format!("{at} twice: keep one entry"));
        }
        if entry.reason.trim().is_empty() {
            problems.push(format!(
                "{at} with no reason: say why it cannot harm Scenarist"
            ));
        }
        match db.get(&entry.id) {
            None => problems.push(format!(
                "{at}, which the advisory database at {} does not have: a misspelt id?",
                db.dir.display()
            )),
            Some(advisory) if advisory.package != entry.krate => problems.push(format!(
                "{at} for crate `{}`, but that advisory is about `{}`: correct the entry",
                entry.krate, advisory.package
            )),
            Some(advisory) if advisory.withdrawn => {
                problems.push(format!("{at}, which has been withdrawn: delete the entry"));
            }
            Some(_) if !findings.iter().any(|f| f.advisory.id == entry.id) => {
                problems.push(format!(
                    "{at}, which no longer applies (no affected `{}` in the lock): delete the entry",
                    entry.krate
                ));
            }
            Some(_) => {}
        }
    }

    let mut denied = Vec::new();
    let mut accepted = Vec::new();
    for finding in findings {
        match policy
            .accept
            .iter()
            .find(|e| e.id == finding.advisory.id && e.krate == finding.advisory.package)
        {
            Some(entry) => accepted.push((finding, entry.reason.clone())),
            None => denied.push(finding),
        }
    }
    Report {
        denied,
        accepted,
        policy: problems,
    }
}

impl Report<'_> {
    fn passes(&self) -> bool {
        self.denied.is_empty() && self.policy.is_empty()
    }

    fn denied_ids(&self) -> Vec<&str> {
        self.denied.iter().map(|f| f.advisory.id.as_str()).collect()
    }

    fn accepted_ids(&self) -> Vec<&str> {
        self.accepted
            .iter()
            .map(|(f, _)| f.advisory.id.as_str())
            .collect()
    }

    /// What a developer reads when the audit fails: each advisory, where it comes from, and
    /// the two ways out.
    fn render(&self) -> String {
        let mut out = String::new();
        for f in &self.denied {
            let a = f.advisory;
            let patched = if a.patched.is_empty() {
                "no patched version".to_owned()
            } else {
                format!("patched: {}", a.patched.join(", "))
            };
            let _ = writeln!(
                out,
                "{} ({}) {}: {}\n  through {}\n  {patched}; details: {}",
                a.id,
                a.kind(),
                f.package,
                a.title,
                f.chain,
                a.file.display()
            );
        }
        if !self.denied.is_empty() {
            let _ = writeln!(
                out,
                "Upgrade or remove the crate (`cargo update -p NAME`), or, if it cannot harm \
                 Scenarist, accept the advisory in {POLICY} with its id, crate and reason."
            );
        }
        for problem in &self.policy {
            let _ = writeln!(out, "{problem}");
        }
        out
    }
}

// ---------------------------------------------------------------------------------------------
// Tests

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A lock file of the project `app` depending on each `(name, version)` from crates.io.
fn fake_lock(packages: &[(&str, &str)]) -> Lock {
    let mut text =
        String::from("version = 4\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n");
    text.push_str("dependencies = [\n");
    for (name, version) in packages {
        let _ = writeln!(text, "  \"{name} {version}\",");
    }
    text.push_str("]\n");
    for (name, version) in packages {
        let _ = write!(
            text,
            "\n[[package]]\nname = \"{name}\"\nversion = \"{version}\"\nsource = \
             \"registry+https://github.com/rust-lang/crates.io-index\"\n"
        );
    }
    // Through a real file, as the real audit reads its lock.
    let path = tempdir().join("Cargo.lock");
    std::fs::write(&path, text).unwrap();
    Lock::parse(&read(&path), "the fake Cargo.lock").unwrap()
}

fn policy(text: &str) -> Policy {
    Policy::parse(text, "the test policy").unwrap()
}

fn no_policy() -> Policy {
    policy("")
}

/// The audit of the project itself: the committed `Cargo.lock` against the database, with
/// `audit-policy.toml`.
#[test]
fn cargo_lock_has_no_advisory_outside_the_policy() {
    let lock = Lock::parse(&read(&root().join("Cargo.lock")), "Cargo.lock").unwrap();
    let policy = Policy::parse(&read(&root().join(POLICY)), POLICY).unwrap();
    let report = audit(&lock, db(), &policy);
    assert!(
        report.passes(),
        "dependency audit failed:\n{}",
        report.render()
    );
    // Every accepted entry was met by an advisory that applies (else the policy check fails).
    assert_eq!(report.accepted.len(), policy.accept.len());
}

#[test]
fn a_vulnerable_version_is_reported_and_a_patched_or_unaffected_one_is_not() {
    // RUSTSEC-2018-0005: serde_yaml, patched >= 0.8.4, unaffected < 0.6.0-rc1.
    let advisory = db().get("RUSTSEC-2018-0005").unwrap();
    assert_eq!(advisory.package, "serde_yaml");
    assert_eq!(advisory.kind(), "vulnerability");

    let report = audit(&fake_lock(&[("serde_yaml", "0.8.3")]), db(), &no_policy());
    assert_eq!(report.denied_ids(), ["RUSTSEC-2018-0005"]);
    assert!(!report.passes());
    let text = report.render();
    assert!(
        text.contains("RUSTSEC-2018-0005 (vulnerability) serde_yaml 0.8.3"),
        "{text}"
    );
    assert!(text.contains("through app → serde_yaml 0.8.3"), "{text}");
    assert!(text.contains("patched: >= 0.8.4"), "{text}");
    assert!(text.contains(POLICY), "{text}");

    for safe in [
        "0.8.4",
        "0.9.34+deprecated",
        "0.5.0",
        "0.6.0-alpha",
        "0.9.0-rc1",
    ] {
        let report = audit(&fake_lock(&[("serde_yaml", safe)]), db(), &no_policy());
        assert!(report.passes(), "serde_yaml {safe}: {}", report.render());
    }
    // A pre-release of the first affected version is affected (0.6.0-rc1 is not below itself).
    let report = audit(
        &fake_lock(&[("serde_yaml", "0.6.0-rc1")]),
        db(),
        &no_policy(),
    );
    assert_eq!(report.denied_ids(), ["RUSTSEC-2018-0005"]);
}

#[test]
fn version_ranges_hold_by_plain_semver_precedence() {
    // (range, version, holds): the operators RustSec uses, partial versions, pre-releases.
    let cases = [
        (">= 0.8.4", "0.8.4", true),
        (">= 0.8.4", "0.8.4-rc1", false),
        (">= 0.8.4", "0.9.0-rc1", true), // semver's `matches` says no; the range says yes
        (">= 0.8.4", "0.9.34+deprecated", true),
        ("> 1.2.3", "1.2.3", false),
        ("> 1.2.3", "1.2.4-alpha", true),
        ("> 1.2", "1.2.9", false),
        ("> 1.2", "1.3.0-alpha", true),
        ("< 0.6.0-rc1", "0.6.0-alpha", true),
        ("< 0.6.0-rc1", "0.6.0-rc1", false),
        ("<= 1.2", "1.2.9", true),
        ("<= 1.2", "1.3.0-alpha", false),
        (">= 0.6.1, < 0.7.0", "0.6.5", true),
        (">= 0.6.1, < 0.7.0", "0.7.0-beta", true),
        (">= 0.6.1, < 0.7.0", "0.7.0", false),
        ("^0.7.2", "0.7.9", true),
        ("^0.7.2", "0.8.0", false),
        ("^0.0.3", "0.0.4", false),
        ("^1.2", "1.9.0", true),
        ("^1.2", "2.0.0-alpha", false),
        ("~1.2.3", "1.2.9", true),
        ("~1.2.3", "1.3.0", false),
        ("=1.0.0", "1.0.0+build", true),
        ("=1.0", "1.0.7", true),
        ("1.2.3", "1.4.0", true), // a bare version is a caret range
        ("*", "0.0.1-alpha", true),
    ];
    for (range, version, expected) in cases {
        let range = VersionReq::parse(range).unwrap();
        let version = Version::parse(version).unwrap();
        let got = range
            .comparators
            .iter()
            .all(|c| holds(c, &version) == Some(true));
        assert_eq!(got, expected, "{range} holds {version}");
    }
}

#[test]
fn an_advisory_fails_unless_the_policy_accepts_it() {
    let lock = fake_lock(&[("fxhash", "0.2.1"), ("serde_yaml", "0.8.3")]);
    let report = audit(&lock, db(), &no_policy());
    assert_eq!(
        report.denied_ids(),
        ["RUSTSEC-2025-0057", "RUSTSEC-2018-0005"]
    );

    let accepting =
        policy("[[accept]]\nid = \"RUSTSEC-2025-0057\"\ncrate = \"fxhash\"\nreason = \"a test\"\n");
    let report = audit(&lock, db(), &accepting);
    assert_eq!(report.accepted_ids(), ["RUSTSEC-2025-0057"]);
    assert_eq!(report.denied_ids(), ["RUSTSEC-2018-0005"]);
    assert!(!report.passes());

    let report = audit(&fake_lock(&[("fxhash", "0.2.1")]), db(), &accepting);
    assert!(report.passes(), "{}", report.render());
}

#[test]
fn informational_advisories_fail_too() {
    let cases = [
        ("fxhash", "0.2.1", "RUSTSEC-2025-0057", "unmaintained"),
        // Fixed in 0.2.10: the version the project has, 0.2.11, passes.
        ("unsafe-libyaml", "0.2.9", "RUSTSEC-2023-0075", "unsound"),
        ("plutonium", "0.5.0", "RUSTSEC-2020-0011", "notice"),
    ];
    for (name, version, id, kind) in cases {
        let report = audit(&fake_lock(&[(name, version)]), db(), &no_policy());
        assert_eq!(report.denied_ids(), [id], "{name} {version}");
        assert_eq!(report.denied[0].advisory.kind(), kind);
        assert!(
            report.render().contains(&format!("{id} ({kind})")),
            "{}",
            report.render()
        );
    }
    let report = audit(
        &fake_lock(&[("unsafe-libyaml", "0.2.11")]),
        db(),
        &no_policy(),
    );
    assert!(report.passes(), "{}", report.render());
}

#[test]
fn a_withdrawn_advisory_never_applies() {
    // RUSTSEC-2025-0014 said humantime was unmaintained, for every version, then was withdrawn.
    let advisory = db().get("RUSTSEC-2025-0014").unwrap();
    assert!(advisory.withdrawn);
    assert!(advisory.affects(&Version::parse("2.1.0").unwrap()));
    let report = audit(&fake_lock(&[("humantime", "2.1.0")]), db(), &no_policy());
    assert!(report.passes(), "{}", report.render());

    let accepting =
        policy("[[accept]]\nid = \"RUSTSEC-2025-0014\"\ncrate = \"humantime\"\nreason = \"old\"\n");
    let report = audit(&fake_lock(&[("humantime", "2.1.0")]), db(), &accepting);
    assert_eq!(report.policy.len(), 1);
    assert!(
        report.policy[0].contains("withdrawn"),
        "{}",
        report.render()
    );
}

#[test]
fn a_policy_entry_that_is_wrong_or_stale_fails() {
    let lock = fake_lock(&[("fxhash", "0.2.1")]);
    let cases = [
        // Applies to nothing in the lock any more.
        (
            "[[accept]]\nid = \"RUSTSEC-2024-0384\"\ncrate = \"instant\"\nreason = \"r\"\n",
            "no longer applies",
        ),
        // Unknown id.
        (
            "[[accept]]\nid = \"RUSTSEC-2025-9999\"\ncrate = \"fxhash\"\nreason = \"r\"\n",
            "does not have",
        ),
        // Wrong crate.
        (
            "[[accept]]\nid = \"RUSTSEC-2025-0057\"\ncrate = \"fxhash2\"\nreason = \"r\"\n",
            "is about `fxhash`",
        ),
        // Empty reason.
        (
            "[[accept]]\nid = \"RUSTSEC-2025-0057\"\ncrate = \"fxhash\"\nreason = \" \"\n",
            "no reason",
        ),
    ];
    for (text, expected) in cases {
        let report = audit(&lock, db(), &policy(text));
        assert!(!report.passes(), "{text}");
        assert!(
            report.render().contains(expected),
            "{text}: {}",
            report.render()
        );
    }
    let twice = "[[accept]]\nid = \"RUSTSEC-2025-0057\"\ncrate = \"fxhash\"\nreason = \"r\"\n";
    let report = audit(&lock, db(), &policy(&format!("{twice}{twice}")));
    assert!(report.render().contains("twice"), "{}", report.render());

    // A missing reason or a misspelt key does not parse at all.
    for text in [
        "[[accept]]\nid = \"RUSTSEC-2025-0057\"\ncrate = \"fxhash\"\n",
        "[[accept]]\nid = \"RUSTSEC-2025-0057\"\ncrate = \"fxhash\"\nreason = \"r\"\nreasn = \"r\"\n",
        "[[acept]]\nid = \"RUSTSEC-2025-0057\"\n",
    ] {
        let error = Policy::parse(text, POLICY).err().unwrap();
        assert!(error.contains("not a valid audit policy"), "{error}");
    }
}

#[test]
fn the_projects_own_crates_are_not_matched_against_advisories() {
    // A crate of the workspace (no source) that shares a name with an advised crate.
    let text = "version = 4\n\n[[package]]\nname = \"fxhash\"\nversion = \"0.2.1\"\n";
    let lock = Lock::parse(text, "the fake Cargo.lock").unwrap();
    assert!(audit(&lock, db(), &no_policy()).passes());
}

#[test]
fn a_missing_or_empty_advisory_database_fails_loudly() {
    let repository = tempdir().join("scenarist");
    assert_eq!(
        db_dir(None, &repository),
        repository.join("../shared/reference/advisory-db")
    );
    assert_eq!(
        db_dir(Some("/elsewhere/db".into()), &repository),
        PathBuf::from("/elsewhere/db")
    );

    let error = Db::load(&db_dir(None, &repository)).err().unwrap();
    assert!(error.contains("not at"), "{error}");
    assert!(error.contains(DB_ENV), "{error}");

    let empty = tempdir();
    std::fs::create_dir_all(empty.join("crates/fxhash")).unwrap();
    let error = Db::load(&empty).err().unwrap();
    assert!(error.contains("holds no advisory"), "{error}");

    // An advisory the checker cannot read fails the load rather than being skipped.
    std::fs::write(
        empty.join("crates/fxhash/RUSTSEC-2025-0057.md"),
        "# no front matter\n",
    )
    .unwrap();
    let error = Db::load(&empty).err().unwrap();
    assert!(error.contains("RUSTSEC-2025-0057.md"), "{error}");
    assert!(error.contains("front matter"), "{error}");
}

#[test]
fn every_advisory_of_the_snapshot_is_read() {
    // The snapshot's crates/ folder holds one file per advisory; none is dropped on the way.
    let files: usize = std::fs::read_dir(db().dir.join("crates"))
        .unwrap()
        .map(|d| std::fs::read_dir(d.unwrap().path()).unwrap().count())
        .sum();
    assert_eq!(db().advisories.len(), files);
    assert!(
        files > 1000,
        "{files} advisories: not the snapshot the policy was written against"
    );
}
