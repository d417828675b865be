package main

import (
	"fmt"
	"strings"

	"github.com/alecthomas/kong"
)

// examples holds one example per command, by its path; `--help` prints it after kong's
// help, and a test checks that every command has one.
var examples = map[string]string{
	"":                               "keyhold serve --listen 127.0.0.1:8080 >> bootstrap.json &\nkeyhold login --issuer http://127.0.0.1:8080/authorization/v2/oauth2/<ws> --client-id <id> --secret-stdin < secret.txt",
	"migrate":                        "keyhold migrate --database postgres://keyhold@db/keyhold",
	"backup":                         "keyhold backup --data-dir ./keyhold-data --out keyhold-$(date +%F).db",
	"serve":                          "keyhold serve --listen 0.0.0.0:8443 --base-url https://iam.example.com --tls-cert-file cert.pem --tls-key-file key.pem",
	"workspace":                      "keyhold workspace create --name acme --admin-email ops@acme.example",
	"workspace create":               "keyhold workspace create --name acme --type MSP --admin-email ops@acme.example",
	"keys":                           "keyhold keys rotate --overlap 1h",
	"keys rotate":                    "keyhold keys rotate --signing-alg EdDSA --overlap 2h",
	"audit":                          "keyhold audit verify --data-dir ./keyhold-data",
	"audit verify":                   "keyhold audit verify --database postgres://keyhold@db/keyhold",
	"admin":                          "keyhold admin recover --workspace default",
	"admin recover":                  "keyhold admin recover --workspace acme --email ops@acme.example",
	"healthcheck":                    "keyhold healthcheck --url http://127.0.0.1:8080/readyz",
	"login":                          "keyhold login --issuer https://iam.example.com/authorization/v2/oauth2/<ws> --client-id <id>    # asks for the secret\nkeyhold login --context prod --base-url https://iam.example.com --workspace <ws> --client-id <id> --secret-file secret.txt",
	"logout":                         "keyhold logout --context prod",
	"context":                        "keyhold context list",
	"context list":                   "keyhold context list -o json",
	"context use":                    "keyhold context use prod",
	"context delete":                 "keyhold context delete staging",
	"credentials":                    "keyhold credentials create ci-pipeline",
	"credentials list":               "keyhold credentials list --owner <user id> -o json",
	"credentials create":             "keyhold credentials create ci-pipeline -o json > ci-credential.json",
	"credentials reset":              "keyhold credentials reset <client id>",
	"credentials delete":             "keyhold credentials delete <client id>",
	"credentials rotate":             "keyhold credentials rotate <client id> --overlap 24h    # deploy the new secret, then: keyhold credentials retire <client id>",
	"credentials secrets":            "keyhold credentials secrets <client id>",
	"credentials retire":             "keyhold credentials retire <client id>",
	"credentials keys":               "keyhold credentials keys set <client id> --jwks-file public-jwks.json",
	"credentials keys get":           "keyhold credentials keys get <client id> -o json",
	"credentials keys set":           "keyhold credentials keys set <client id> --jwks-uri https://ci.example.com/.well-known/jwks.json",
	"credentials keys delete":        "keyhold credentials keys delete <client id>",
	"credentials token-settings":     "keyhold credentials token-settings get <client id>",
	"credentials token-settings get": "keyhold credentials token-settings get <client id> -o json",
	"credentials token-settings set": "keyhold credentials token-settings set <client id> --lifetime 5m --scope glp.workspace.view --audience https://reports.example.com/api",
	"credentials tls":                "keyhold credentials tls get <client id>",
	"credentials tls get":            "keyhold credentials tls get <client id> -o json",
	"credentials tls set":            "keyhold credentials tls set <client id> --subject-dn 'CN=ci-job,O=Acme'\nkeyhold credentials tls set <client id> --certificate ci-job.pem",
	"credentials tls delete":         "keyhold credentials tls delete <client id>",
	"contact":                        "keyhold contact get",
	"contact get":                    "keyhold contact get <tenant workspace id> -o json",
	"contact set":                    "keyhold contact set --email ops@example.com --phone '+33 1 23 45 67 89' --city Paris --country FR",
	"users":                          "keyhold users list",
	"users list":                     "keyhold users list --filter \"username eq 'ada@example.com'\"",
	"users get":                      "keyhold users get <user id>",
	"users add":                      "keyhold users add ada@example.com",
	"users delete":                   "keyhold users delete <user id>",
	"user-groups":                    "keyhold user-groups list",
	"user-groups list":               "keyhold user-groups list -o json",
	"user-groups get":                "keyhold user-groups get <group id>",
	"user-groups create":             "keyhold user-groups create operators --description 'on-call engineers'",
	"user-groups delete":             "keyhold user-groups delete <group id>",
	"user-groups members":            "keyhold user-groups members list <group id>",
	"user-groups members list":       "keyhold user-groups members list <group id>",
	"user-groups members add":        "keyhold user-groups members add <group id> <user id>",
	"user-groups members remove":     "keyhold user-groups members remove <group id> <user id>",
	"roles":                          "keyhold roles list",
	"roles list":                     "keyhold roles list --filter \"kind eq 'CUSTOM'\"",
	"roles get":                      "keyhold roles get <role id>",
	"roles create":                   "keyhold roles create 'credential auditor' --permission glp.workspace.view,glp.identity.view",
	"roles delete":                   "keyhold roles delete <role id>",
	"assignments":                    "keyhold assignments list",
	"assignments list":               "keyhold assignments list --subject user:<user id>",
	"assignments create":             "keyhold assignments create user:ada@example.com glp.workspace-observer\nkeyhold assignments create api-client:<client id> 'credential auditor' --scope grn:glp/workspaces/<ws>\nkeyhold assignments create user:ada@example.com todo-editor --condition 'resource.properties.ownerID == subject.attributes.email'",
	"assignments delete":             "keyhold assignments delete <assignment id>",
	"scope-groups":                   "keyhold scope-groups list",
	"scope-groups list":              "keyhold scope-groups list -o json",
	"scope-groups get":               "keyhold scope-groups get <group id>",
	"scope-groups create":            "keyhold scope-groups create 'EU servers' --description 'servers in Frankfurt'",
	"scope-groups delete":            "keyhold scope-groups delete <group id>",
	"scope-groups scopes":            "keyhold scope-groups scopes list <group id>",
	"scope-groups scopes list":       "keyhold scope-groups scopes list <group id>",
	"scope-groups scopes add":        "keyhold scope-groups scopes add <group id> grn:glp/workspaces/<ws>/regions/eu/providers/compute/servers/* --description 'every EU server'",
	"scope-groups scopes remove":     "keyhold scope-groups scopes remove <group id> <scope id>",
	"providers":                      "keyhold providers list",
	"providers list":                 "keyhold providers list",
	"providers get":                  "keyhold providers get glp",
	"resource-types":                 "keyhold resource-types list glp",
	"resource-types list":            "keyhold resource-types list glp -o json",
	"permissions":                    "keyhold permissions list glp",
	"permissions list":               "keyhold permissions list glp",
	"tenants":                        "keyhold tenants list",
	"tenants list":                   "keyhold tenants list --filter \"workspaceName eq 'acme-eu'\"",
	"tenants get":                    "keyhold tenants get <tenant id>",
	"tenants create":                 "keyhold tenants create acme-eu --email ops@acme-eu.example",
	"tenants delete":                 "keyhold tenants delete <tenant id>",
	"tenant-groups":                  "keyhold tenant-groups list",
	"tenant-groups list":             "keyhold tenant-groups list",
	"tenant-groups get":              "keyhold tenant-groups get <group id>",
	"tenant-groups create":           "keyhold tenant-groups create europe --description 'EU tenants'",
	"tenant-groups delete":           "keyhold tenant-groups delete <group id>",
	"tenant-groups members":          "keyhold tenant-groups members list <group id>",
	"tenant-groups members list":     "keyhold tenant-groups members list <group id>",
	"tenant-groups members add":      "keyhold tenant-groups members add <group id> <tenant id>",
	"tenant-groups members remove":   "keyhold tenant-groups members remove <group id> <membership id>",
	"check":                          "keyhold check ada@example.com glp.identity.edit grn:glp/workspaces/<ws> --explain\nkeyhold check api-client:<client id> todo.todo.update todo/todo:42 && echo allowed",
	"can-i":                          "keyhold can-i\nkeyhold can-i todo/todo:42 --subject user:ada@example.com --explain",
	"completion":                     "source <(keyhold completion bash)\nkeyhold completion zsh > \"${fpath[1]}/_keyhold\"\nkeyhold completion fish > ~/.config/fish/completions/keyhold.fish",
}

// helpWithExample prints kong's help and then the command's example.
func helpWithExample(options kong.HelpOptions, ctx *kong.Context) error {
	if err := kong.DefaultHelpPrinter(options, ctx); err != nil {
		return err
	}
	path := ""
	if n := ctx.Selected(); n != nil {
		path = n.Path()
	}
	if ex, ok := examples[path]; ok {
		fmt.Fprintf(ctx.Stdout, "\nExample:\n")
		for _, line := range strings.Split(ex, "\n") {
			fmt.Fprintf(ctx.Stdout, "  %s\n", line)
		}
	}
	return nil
}
