use super::*;

const SMALL: &str = "\
provider | plivo | Plivo | carrier | default
provider | sip | SIP/BYOC | sip | - | 90
country | IN | India | 91
country | US | United States | 1
group | plivo | IN | in-mobile | India mobile | 0 | 60 | default
prefixes | 919 918
group | plivo | IN | in-9180 | Carved out of mobile | 0 | 75 | -
prefixes | 9180
group | plivo | IN | in-91801 | Carved out of the carve-out | 0 | 80 | -
prefixes | 91801
group | plivo | US | us-all | United States | 40 | 95 | -
prefixes | 1
";

fn routes() -> Routes {
    Routes::new(Catalog::parse(SMALL).expect("the small catalog parses"))
}

fn errors(text: &str) -> Vec<String> {
    Catalog::parse(text).expect_err("refused").into_iter().map(|e| e.to_string()).collect()
}

#[test]
fn n3_the_longest_prefix_wins() {
    let r = routes();
    assert_eq!(r.group_of("plivo", "+919876543210").unwrap().id, "in-mobile");
    assert_eq!(r.group_of("plivo", "+918023456789").unwrap().id, "in-9180");
    assert_eq!(r.group_of("plivo", "+918019345678").unwrap().id, "in-91801");
    assert_eq!(r.group_of("plivo", "918023456789").unwrap().id, "in-9180", "the + is optional");
    assert_eq!(r.group_of("plivo", "+14155550100").unwrap().id, "us-all");
}

#[test]
fn n3_a_disabled_parent_with_an_enabled_child() {
    let r = routes();
    let enabled = |g: &str| g == "in-91801" || g == "in-mobile";
    // The child's range is allowed though its parent group is off...
    assert_eq!(r.route("plivo", "+918019345678", enabled).unwrap().id, "in-91801");
    // ...and the parent's own range is refused, naming the group and the country, even
    // though a shorter prefix (919/918 → in-mobile) is enabled.
    assert_eq!(
        r.route("plivo", "+918023456789", enabled),
        Err(Refusal::Disabled {
            group: "in-9180".into(),
            group_name: "Carved out of mobile".into(),
            country: "India".into()
        })
    );
    assert_eq!(r.route("plivo", "+919876543210", enabled).unwrap().outbound_rate, 60);
}

#[test]
fn n3_a_number_matching_nothing_and_an_unknown_provider_are_refused() {
    let r = routes();
    let all = |_: &str| true;
    assert_eq!(r.route("plivo", "+447700900123", all), Err(Refusal::NoGroup { destination: "+447700900123".into() }));
    assert_eq!(r.route("plivo", "+917", all), Err(Refusal::NoGroup { destination: "+917".into() }));
    assert_eq!(r.route("plivo", "", all), Err(Refusal::NoGroup { destination: "".into() }));
    assert_eq!(r.route("plivo", "+91x9", all), Err(Refusal::NoGroup { destination: "+91x9".into() }));
    assert_eq!(r.route("nope", "+919876543210", all), Err(Refusal::UnknownProvider("nope".into())));
    assert!(r.group_of("sip", "+919876543210").is_none(), "SIP/BYOC has no groups");
}

#[test]
fn n1_mistakes_are_refused_with_their_line_numbers() {
    let overlap = format!("{SMALL}group | plivo | IN | in-dup | Duplicate | 0 | 60 | -\nprefixes | 9170 919\n");
    assert_eq!(errors(&overlap), ["line 14: prefix 919 overlaps: it is already in group in-mobile (line 6)"]);

    let bad = "\
provider | plivo | Plivo | carrier | default
country | XX | Nowhere | 999
country | IN | India | 92
country | IN | India | 91
group | plivo | ZZ | z | Zed | 0 | 10 | -
group | plivo | IN | in-a | A | -5 | 10 | -
group | plivo | IN | in-b | B | 0 | 1.5 | -
group | plivo | IN | in-c | C | 0 | 10 | maybe
group | plivo | IN | in-d | D | 0 | 10 | -
prefixes | 91a 4412 9199999999999999 91
wat | 1
group | plivo | IN
";
    assert_eq!(
        errors(bad),
        [
            "line 2: unknown country \"XX\" (an ISO 3166 code with a numbering plan)",
            "line 3: IN's calling code is 91, not \"92\"",
            "line 5: unknown country \"ZZ\" (declare it with a country line above)",
            "line 6: inbound rate -5 is negative",
            "line 7: outbound rate \"1.5\" is not a whole number of paise",
            "line 8: \"maybe\" is neither `default` nor `-`",
            "line 10: prefix \"91a\" is not 1 to 15 digits",
            "line 10: prefix 4412 does not start with IN's calling code 91",
            "line 10: prefix \"9199999999999999\" is not 1 to 15 digits",
            "line 11: unknown line kind \"wat\" (provider, country, group, prefixes)",
            "line 12: a group line has 3 fields; see the file's header",
        ]
    );
    assert_eq!(
        errors("provider | sip | SIP | sip | - | -3\ncountry | IN | India | 91\n"),
        ["line 1: SIP flat rate -3 is negative", "line 2: no provider is marked `default`"]
    );
    assert_eq!(
        errors("provider | p | P | carrier | default\ncountry | IN | India | 91\ngroup | p | IN | g | G | 0 | 1 | -\n"),
        ["line 3: group g has no prefixes"]
    );
    assert_eq!(
        errors("prefixes | 91\nprovider | p | P | carrier | default\n")[0],
        "line 1: prefixes come after the group they belong to"
    );
}

#[test]
fn n1_the_shipped_catalog_is_valid_realistic_and_covers_every_example_number() {
    let catalog = Catalog::parse(SHIPPED).unwrap_or_else(|e| panic!("the shipped catalog: {e:?}"));
    assert!(catalog.prefix_count() >= 2_000, "a few thousand prefixes: {}", catalog.prefix_count());
    assert!(catalog.countries.len() >= 13, "India and a dozen more");
    assert_eq!(catalog.default_provider().id, "plivo");
    assert!(catalog.provider("sip").and_then(|p| p.flat_rate).is_some());
    for id in ["in-mobile", "in-landline-metro", "in-landline-other"] {
        let g = catalog.group(id).unwrap_or_else(|| panic!("{id}"));
        assert!(g.default_enabled, "{id} is on in new workspaces");
    }
    let routes = Routes::new(catalog.clone());
    // libphonenumber's example numbers route to a group of their own country and kind.
    for c in &catalog.countries {
        let meta = phonenumber::metadata::DATABASE.by_id(&c.code).expect("known");
        let d = meta.descriptors();
        for (kind, desc) in [("mobile", d.mobile()), ("landline", d.fixed_line())] {
            let Some(example) = desc.and_then(|x| x.example()) else { continue };
            let e164 = format!("+{}{example}", c.calling_code);
            let g = routes.group_of("plivo", &e164).unwrap_or_else(|| panic!("{e164} ({} {kind}) routes", c.code));
            assert_eq!(g.country, c.code, "{e164} ({kind}) is in {}", g.id);
        }
    }
    // Bengaluru and Delhi landlines are metro; a Jaipur landline is not.
    assert_eq!(routes.group_of("plivo", "+918023456789").unwrap().id, "in-landline-metro");
    assert_eq!(routes.group_of("plivo", "+911123456789").unwrap().id, "in-landline-metro");
    assert_eq!(routes.group_of("plivo", "+911412345678").unwrap().id, "in-landline-other");
    assert_eq!(routes.group_of("plivo", "+919876543210").unwrap().id, "in-mobile");
}

#[test]
fn n3_the_trie_agrees_with_a_scan_of_every_prefix() {
    let catalog = Catalog::parse(SHIPPED).expect("parses");
    let routes = Routes::new(catalog.clone());
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..20_000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        // Numbers near real prefixes: a random prefix, then random digits.
        let g = &catalog.groups[(seed % catalog.groups.len() as u64) as usize];
        let p = &g.prefixes[((seed >> 20) % g.prefixes.len() as u64) as usize];
        let cut = ((seed >> 40) % (p.len() as u64 + 1)) as usize;
        let tail: String = (0..12).map(|i| char::from(b'0' + ((seed >> (i * 4)) % 10) as u8)).collect();
        let number = format!("{}{}", &p[..cut], &tail[..12 - cut.min(6)]);
        let scan = catalog
            .groups
            .iter()
            .filter(|g| g.provider == "plivo")
            .flat_map(|g| g.prefixes.iter().map(move |p| (p, &g.id)))
            .filter(|(p, _)| number.starts_with(p.as_str()))
            .max_by_key(|(p, _)| p.len())
            .map(|(_, id)| id.clone());
        assert_eq!(routes.group_of("plivo", &number).map(|g| g.id.clone()), scan, "{number}");
    }
}

#[test]
fn b2_every_started_minute_is_billed() {
    assert_eq!(billed_minutes(0), 0);
    assert_eq!(billed_minutes(1), 1);
    assert_eq!(billed_minutes(60), 1);
    assert_eq!(billed_minutes(61), 2);
    assert_eq!(billed_minutes(-5), 0);
    assert_eq!(cost(61, 65), 130);
    assert_eq!(cost(179, 60), 180);
}

#[test]
fn n1_the_version_follows_the_content() {
    let a = Catalog::parse(SMALL).unwrap();
    let b = Catalog::parse(&SMALL.replace("| 0 | 60 |", "| 0 | 61 |")).unwrap();
    assert_eq!(a.version(), Catalog::parse(SMALL).unwrap().version());
    assert_ne!(a.version(), b.version());
}
