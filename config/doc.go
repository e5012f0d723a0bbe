// Package config loads the mailrules configuration file: one TOML file
// with [[account]] and [[rule]] tables.
//
// [Load] reads a file, validates every account and rule, compiles the rules
// (package rules) and returns a [Config], or every problem found at once as
// diag.Problems, each with its FILE:LINE:COL (positions come from package
// internal/tomlpos).
//
// What lives where:
//
//   - model.go: the model the engine runs on ([Config], [Account]), the
//     defaults and limits of account settings, [DefaultConfigPath].
//   - secret.go, oauth2.go: where passwords and tokens come from ([Secret],
//     [OAuth2]) and how they are fetched when a session logs in; the file
//     never has to hold them.
//   - keys.go: the one table of keys ([Keys]): name, table, type, default
//     and a doc line. The unknown-key check and did-you-mean take it, and a
//     test checks that rules.example.toml shows every key.
//   - file.go: the file's shape, the structs a file is decoded into.
//   - decode.go: decoding one key at a time, so that a value of the wrong
//     type is one problem among the others.
//   - load.go: [Load] and the problems that span the file (type errors,
//     unknown keys).
//   - validate.go: checking and defaulting accounts, secrets, oauth2 tables
//     and rules, and what spans accounts and rules.
package config
