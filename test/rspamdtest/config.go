package rspamdtest

import (
	"fmt"
	"strings"
)

// offlineModules are the modules that would ask the network (DNS lists,
// SPF/DKIM/DMARC records, fuzzy storages, feeds and map updates) or need
// a redis of their own; they are disabled.
var offlineModules = []string{
	"antivirus", "arc", "asn", "aws_s3", "bimi", "clickhouse", "dcc", "dkim", "dkim_signing", "dmarc",
	"elastic", "emails", "external_relay", "external_services", "fuzzy_check", "greylist", "hfilter",
	"history_redis", "metadata_exporter", "metric_exporter", "mx_check", "neural", "p0f", "phishing",
	"ratelimit", "rbl", "replies", "reputation", "rspamd_update", "spamtrap", "spf", "surbl", "trie",
	"url_redirector", "whitelist",
}

// commonTLDs stand in for the public suffix list; see the package doc.
var commonTLDs = []string{
	"com", "org", "net", "edu", "gov", "mil", "int", "info", "biz", "io", "us", "uk", "co.uk", "ac.uk",
	"de", "fr", "nl", "be", "ch", "at", "it", "es", "se", "no", "dk", "fi", "pl", "cz", "ru", "jp",
	"cn", "kr", "in", "au", "com.au", "ca", "br", "com.br", "mx", "ie", "nz", "co.nz", "za", "co.za",
}

// configFiles returns the files of the server directory, by path.
func configFiles(opts *Options, ports []int, hsCache, tldPath, runDir string) map[string]string {
	workers := opts.Workers
	if workers < 1 {
		workers = 1
	}
	files := map[string]string{}
	files["rspamd.conf"] = fmt.Sprintf(`# Written by rspamdtest: the stock rules, two workers on loopback, no proxy.
.include "$CONFDIR/common.conf"

options {
    pidfile = "$RUNDIR/rspamd.pid";
    .include "$CONFDIR/options.inc"
    .include(try=true; priority=1,duplicate=merge) "$LOCAL_CONFDIR/local.d/options.inc"
}

logging {
    type = "file";
    filename = "$LOGDIR/rspamd.log";
    level = "info";
}

worker "normal" {
    bind_socket = "127.0.0.1:%d";
    .include "$CONFDIR/worker-normal.inc"
    count = %d;
}

worker "controller" {
    bind_socket = "127.0.0.1:%d";
    count = 1;
    password = %q;
    secure_ip = "192.0.2.1"; # nobody: loopback clients need the password too
    static_dir = "${WWWDIR}";
}
`, ports[0], workers, ports[1], Password)
	tld := fmt.Sprintf("url_tld = %q;\n", tldPath)
	if opts.FullTLD {
		tld = ""
	}
	files["local/local.d/options.inc"] = fmt.Sprintf(`# Offline: DNS to a closed local port answers at once with an error.
dns {
    nameserver = ["127.0.0.1:1"];
    timeout = 0.1s;
    retransmits = 1;
}
enable_test_patterns = true; # GTUBE
hs_cache_dir = %q;
tempdir = %q;
%s`, hsCache, runDir, tld)
	files["local/local.d/classifier-bayes.conf"] = fmt.Sprintf(`servers = "127.0.0.1:%d";
autolearn = false;
`, ports[2])
	// A settings entry a client selects with the Settings-Id header: every
	// message gets "add header", so a test sees that the header arrived.
	files["local/local.d/settings.conf"] = fmt.Sprintf(`%s {
    id = %q;
    apply {
        actions {
            "add header" = -1000;
            reject = 1000;
        }
    }
}
`, strings.ReplaceAll(SettingsID, "-", "_"), SettingsID)
	for _, m := range offlineModules {
		files["local/local.d/"+m+".conf"] = "enabled = false;\n"
	}
	files["tld.dat"] = "// rspamdtest: common suffixes only\n" + strings.Join(commonTLDs, "\n") + "\n"
	return files
}
