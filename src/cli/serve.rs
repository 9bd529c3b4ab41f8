//! `scimcheck serve`: the built-in double on a loopback port, with its
//! legal variants.

use super::*;

#[derive(Args)]
pub struct ServeArgs {
    /// The port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Require this bearer token. SCIM_TOKEN is not read unless --token-env names it:
    /// a production token exported for `run` must not become the sandbox's.
    #[arg(long, conflicts_with = "token_env")]
    pub token: Option<String>,
    /// Require the bearer token held by this environment variable (such as SCIM_TOKEN).
    #[arg(long, value_name = "NAME")]
    pub token_env: Option<String>,
    /// Require no token at all (any process on this machine may then read
    /// and write the sandbox). Without any of these, a token is generated and printed.
    #[arg(long, conflicts_with_all = ["token", "token_env"])]
    pub no_auth: bool,
    /// The most users and groups held at once; a create beyond them is answered 507.
    #[arg(long, value_name = "N", default_value_t = crate::double::service::MAX_RESOURCES, value_parser = count::<100_000_000>)]
    pub max_resources: usize,
    /// RFC-legal choices to make differently, comma-separated (see `--variant help`):
    /// patch-204, short-ids, no-etag, no-sort, no-bulk, no-change-password,
    /// no-root-search, no-me, no-user-groups, empty-list-without-resources, eq-and-only, no-search,
    /// strict-user.
    #[arg(long = "variant", value_name = "NAME,...")]
    pub variants: Option<String>,
}

pub fn serve(args: ServeArgs) -> Exit {
    if args.variants.as_deref() == Some("help") {
        for v in Variant::ALL {
            println!("{:<30} {}", v.name(), v.about());
        }
        return Exit::Passed;
    }
    let variants = match Variants::parse(args.variants.as_deref().unwrap_or_default()) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("scimcheck serve: {e}");
            return Exit::Usage;
        }
    };
    // Which token, and where it came from, so the startup line can say so.
    let (token, source) = match (&args.token, &args.token_env) {
        (Some(token), _) => (Some(token.clone()), "from --token".to_string()),
        (None, Some(name)) => match std::env::var(name) {
            Ok(token) if !token.is_empty() => (Some(token), format!("from ${name}")),
            _ => {
                eprintln!("scimcheck serve: --token-env {name}: the variable is not set");
                return Exit::Usage;
            }
        },
        (None, None) if args.no_auth => (None, String::new()),
        (None, None) => (
            Some(uuid::Uuid::new_v4().simple().to_string()),
            "generated".to_string(),
        ),
    };
    let generated = (source == "generated").then(|| token.clone()).flatten();
    runtime().block_on(async move {
        let listener = match std::net::TcpListener::bind(("127.0.0.1", args.port)) {
            Ok(l) => l,
            Err(e) => {
                eprintln!(
                    "scimcheck serve: cannot listen on 127.0.0.1:{}: {e}",
                    args.port
                );
                return Exit::Usage;
            }
        };
        let auth = match &token {
            Some(_) => format!("bearer token required, {source}"),
            None => "no authentication (--no-auth)".to_string(),
        };
        let limits = crate::double::plain::Limits {
            max_resources: args.max_resources,
            ..Default::default()
        };
        let double = match PlainDouble::start_limited(Some(listener), token, variants.clone(), limits).await {
            Ok(double) => double,
            Err(e) => {
                eprintln!("scimcheck serve: cannot serve on 127.0.0.1:{}: {e}", args.port);
                return Exit::Usage;
            }
        };
        let chosen: Vec<&str> = variants.iter().map(Variant::name).collect();
        let chosen = if chosen.is_empty() {
            String::new()
        } else {
            format!(", variants: {}", chosen.join(", "))
        };
        println!(
            "scimcheck serve: SCIM 2.0 service provider at {} (in memory, {auth}{chosen}); Ctrl-C stops it",
            double.base_url()
        );
        // The sandbox's own token, made for it: printed so the user can use it.
        if let Some(token) = &generated {
            println!("scimcheck serve: token {token} (send `Authorization: Bearer {token}`)");
        }
        let _ = tokio::signal::ctrl_c().await;
        Exit::Passed
    })
}
