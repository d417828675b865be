// Package repo finds keyhold's repository for the bench tools that build cmd/keyhold from it.
package repo

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
)

// ErrNotFound: no directory above the working directory holds keyhold's go.mod.
var ErrNotFound = errors.New("keyhold's repository is not above the working directory")

// Root is the nearest directory above the working directory whose go.mod is keyhold's.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil &&
			strings.HasPrefix(string(b), "module github.com/keyhold/keyhold\n") {
			return dir, nil
		}
		if filepath.Dir(dir) == dir {
			return "", ErrNotFound
		}
		dir = filepath.Dir(dir)
	}
}
