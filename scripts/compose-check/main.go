// compose-check loads a compose file with compose-go, the loader of `docker compose` itself:
// the compose-spec JSON schema, then the model's own consistency checks (depends_on targets,
// volumes, networks). Prints "ok" or the loader's error, exit 1. Used by tests/deploy.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: compose-check FILE")
		os.Exit(2)
	}
	file, _ := filepath.Abs(os.Args[1])
	options, err := cli.NewProjectOptions([]string{file}, cli.WithOsEnv, cli.WithDotEnv,
		cli.WithWorkingDirectory(filepath.Dir(file)))
	if err == nil {
		_, err = options.LoadProject(context.Background())
	}
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Println("ok")
}
