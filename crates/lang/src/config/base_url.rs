//! The URL of a Zendesk instance, checked once with the `url` crate (the parser reqwest itself
//! uses, so what is checked is what is dialled). The credentials go wherever this URL points,
//! so it is only a scheme, a host and a port: `https://` anywhere, `http://` only to this
//! machine (`127.0.0.1`, `[::1]`, `localhost`: the stand-in), and no user name or password,
//! path, query or fragment. Every request URL is then joined onto it and must keep its origin
//! (`endpoint`), which is what stops a link in Zendesk's answer (`links.next`) from carrying
//! the credentials to another host, port or scheme.
//!
//! `hide_userinfo` masks `user:password@` in any text before it is shown, for the places that
//! print a URL nobody has checked yet (an error about it, a registry file).

use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// Why an instance URL is refused. Each message completes "the URL of `acme` …".
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UrlProblem {
    /// `acme.zendesk.com` (no scheme), `https://` (no host), `https://acme:zendesk.com`.
    #[error("is not a URL such as `https://acme.zendesk.com` ({0})")]
    Unreadable(String),
    /// `ftp://acme.zendesk.com`.
    #[error("is not an https:// URL")]
    Scheme,
    /// `https://user:pass@acme.zendesk.com`, `http://localhost:x@127.0.0.2:8080` (which
    /// reaches 127.0.0.2, not localhost).
    #[error(
        "carries a user name or password before `@` (they would be sent to the host after it, along with the credentials)"
    )]
    Userinfo,
    /// `http://acme.zendesk.com`, `http://127.0.0.2`, `http://localhost.evil.example`.
    #[error(
        "uses http://, which is allowed only for 127.0.0.1, [::1] or localhost (this machine); use https://"
    )]
    PlainHttp,
    /// `https://acme.zendesk.com/api/v2`.
    #[error("has a path (`{0}`), but names the instance only")]
    Path(String),
    /// `https://acme.zendesk.com/?locale=fr`.
    #[error("has a query (`?…`), but names the instance only")]
    Query,
    /// `https://acme.zendesk.com/#tickets`.
    #[error("has a fragment (`#…`), but names the instance only")]
    Fragment,
}

/// A request URL that does not stay on the instance: `links.next` of a comments page that
/// points at another host, port or scheme. Nothing is sent to it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{target} is not on {base} (another host, port or scheme)")]
pub struct ForeignUrl {
    pub base: String,
    /// The URL, userinfo masked and cut to 200 characters.
    pub target: String,
}

/// A checked instance URL (see the module doc).
#[derive(Clone, PartialEq, Eq)]
pub struct BaseUrl {
    url: Url,
    /// `https://acme.zendesk.com`: the URL without its trailing `/`.
    text: String,
}

impl std::fmt::Debug for BaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BaseUrl({})", self.text)
    }
}

impl std::fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl BaseUrl {
    pub fn parse(text: &str) -> Result<Self, UrlProblem> {
        let url = Url::parse(text).map_err(|e| UrlProblem::Unreadable(e.to_string()))?;
        match url.scheme() {
            "https" | "http" => {}
            _ => return Err(UrlProblem::Scheme),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(UrlProblem::Userinfo);
        }
        if url.scheme() == "http" && !is_loopback(url.host().as_ref()) {
            return Err(UrlProblem::PlainHttp);
        }
        if url.path() != "/" {
            return Err(UrlProblem::Path(url.path().chars().take(80).collect()));
        }
        if url.query().is_some() {
            return Err(UrlProblem::Query);
        }
        if url.fragment().is_some() {
            return Err(UrlProblem::Fragment);
        }
        let text = url.as_str().trim_end_matches('/').to_owned();
        Ok(Self { url, text })
    }

    /// `https://acme.zendesk.com`, without a trailing `/`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn host(&self) -> Option<Host<&str>> {
        self.url.host()
    }

    /// `path` (`/api/v2/users/me`, or an absolute link from an answer) joined onto the
    /// instance, refused unless it has the same scheme, host and port and no userinfo.
    pub fn endpoint(&self, path: &str) -> Result<Url, ForeignUrl> {
        let foreign = || ForeignUrl {
            base: self.text.clone(),
            target: hide_userinfo(path).chars().take(200).collect(),
        };
        let url = self.url.join(path).map_err(|_| foreign())?;
        let same_origin = url.origin() == self.url.origin();
        if !same_origin || !url.username().is_empty() || url.password().is_some() {
            return Err(foreign());
        }
        Ok(url)
    }
}

/// `127.0.0.1`, `::1` or `localhost` exactly (`localhost.evil.example` is a domain like
/// any other; `127.0.0.2` is not where the stand-in listens).
fn is_loopback(host: Option<&Host<&str>>) -> bool {
    match host {
        Some(Host::Ipv4(ip)) => *ip == Ipv4Addr::LOCALHOST,
        Some(Host::Ipv6(ip)) => *ip == Ipv6Addr::LOCALHOST,
        Some(Host::Domain(domain)) => *domain == "localhost",
        None => false,
    }
}

/// `text` with the userinfo of every URL in it (`scheme://USER:PASSWORD@host`) replaced by
/// as many `*`, byte for byte, so that spans into the text stay valid.
pub fn hide_userinfo(text: &str) -> Cow<'_, str> {
    let mut hidden: Option<String> = None;
    let mut from = 0;
    while let Some(found) = text.get(from..).and_then(|rest| rest.find("://")) {
        let start = from + found + "://".len();
        let rest = text.get(start..).unwrap_or_default();
        let end = rest
            .find(|c: char| matches!(c, '/' | '?' | '#' | '\\' | '"' | '\'') || c.is_whitespace())
            .unwrap_or(rest.len());
        // The last `@` of the authority ends the userinfo (as WHATWG URL parsers read it).
        if let Some(at) = rest.get(..end).and_then(|authority| authority.rfind('@')) {
            hidden
                .get_or_insert_with(|| text.to_owned())
                .replace_range(start..start + at, &"*".repeat(at));
        }
        from = start + end;
    }
    hidden.map_or(Cow::Borrowed(text), Cow::Owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_urls_are_a_scheme_a_host_and_a_port() {
        for accepted in [
            "https://acme.zendesk.com",
            "https://acme.zendesk.com/",
            "https://support.acme.example:8443",
            "http://127.0.0.1:18801",
            "http://127.0.0.1:0/",
            "http://[::1]:18801",
            "http://localhost:18801",
            "http://localhost:18801/",
        ] {
            let base = BaseUrl::parse(accepted).unwrap_or_else(|e| panic!("{accepted}: {e}"));
            assert_eq!(base.as_str(), accepted.trim_end_matches('/'));
        }
        let refused = [
            ("http://localhost:x@127.0.0.2:18801", UrlProblem::Userinfo),
            ("https://user:pass@acme.zendesk.com", UrlProblem::Userinfo),
            ("https://user@acme.zendesk.com", UrlProblem::Userinfo),
            ("https://:pass@acme.zendesk.com", UrlProblem::Userinfo),
            ("https://acme.zendesk.com?x=1", UrlProblem::Query),
            ("https://acme.zendesk.com/?", UrlProblem::Query),
            ("https://acme.zendesk.com#x", UrlProblem::Fragment),
            ("https://acme.zendesk.com/#", UrlProblem::Fragment),
            (
                "https://acme.zendesk.com/api/v2",
                UrlProblem::Path("/api/v2".into()),
            ),
            ("https://acme.zendesk.com//", UrlProblem::Path("//".into())),
            ("http://acme.zendesk.com", UrlProblem::PlainHttp),
            ("http://127.0.0.2:18801", UrlProblem::PlainHttp),
            ("http://127.0.0.2", UrlProblem::PlainHttp),
            ("http://localhost.evil.example", UrlProblem::PlainHttp),
            ("http://localhost.:18801", UrlProblem::PlainHttp),
            ("http://[::2]:18801", UrlProblem::PlainHttp),
            ("ftp://acme.zendesk.com", UrlProblem::Scheme),
            ("file:///etc/passwd", UrlProblem::Scheme),
        ];
        for (url, problem) in refused {
            assert_eq!(BaseUrl::parse(url), Err(problem), "{url}");
        }
        for unreadable in [
            "acme.zendesk.com",
            "https://",
            "https://acme:zendesk.com",
            "",
        ] {
            assert!(
                matches!(BaseUrl::parse(unreadable), Err(UrlProblem::Unreadable(_))),
                "{unreadable}"
            );
        }
    }

    #[test]
    fn endpoints_stay_on_the_instance() {
        let base = BaseUrl::parse("http://127.0.0.1:18801").unwrap();
        assert_eq!(
            base.endpoint("/api/v2/users/me").unwrap().as_str(),
            "http://127.0.0.1:18801/api/v2/users/me"
        );
        assert_eq!(
            base.endpoint(
                "http://127.0.0.1:18801/api/v2/tickets/1/comments.json?page%5Bafter%5D=x"
            )
            .unwrap()
            .as_str(),
            "http://127.0.0.1:18801/api/v2/tickets/1/comments.json?page%5Bafter%5D=x"
        );
        for foreign in [
            "http://127.0.0.2:18801/api/v2/users/me",
            "http://127.0.0.1:18802/api/v2/users/me",
            "https://127.0.0.1:18801/api/v2/users/me",
            "//evil.example/api/v2",
            "http://u:p@127.0.0.1:18801/api/v2",
            "http://localhost:18801/api/v2",
        ] {
            let error = base.endpoint(foreign).unwrap_err();
            assert!(!error.to_string().contains("u:p"), "{error}");
            assert_eq!(error.base, "http://127.0.0.1:18801", "{foreign}");
        }
        // The old `format!("{base}{path}")` sent a link lacking `/api/` to another host;
        // joined, it is a path on the instance.
        let glued = format!("{base}@evil.example/api/v2");
        assert_eq!(Url::parse(&glued).unwrap().host_str(), Some("evil.example"));
        assert_eq!(
            base.endpoint("@evil.example/api/v2").unwrap().as_str(),
            "http://127.0.0.1:18801/@evil.example/api/v2"
        );
    }

    #[test]
    fn userinfo_is_hidden_byte_for_byte() {
        let text =
            "url: http://localhost:x@127.0.0.2:18801\nother: https://a@b@évil.example/p?q=u@v\n";
        let hidden = hide_userinfo(text);
        assert_eq!(hidden.len(), text.len());
        assert_eq!(
            hidden,
            "url: http://***********@127.0.0.2:18801\nother: https://***@évil.example/p?q=u@v\n"
        );
        assert!(matches!(
            hide_userinfo("https://acme.zendesk.com/x@y"),
            Cow::Borrowed(_)
        ));
        assert_eq!(hide_userinfo("https://é@x"), "https://**@x");
    }
}
