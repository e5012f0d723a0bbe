package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// isMessageDir reports whether a directory holds Maildir message files,
// which Dovecot never rewrites in place (it renames, links and unlinks
// them), so a snapshot may share them by hard link. Everything else (the
// index, the cache, dovecot-uidlist, subscriptions) is written in place and
// must be copied.
func isMessageDir(dir string) bool {
	switch filepath.Base(dir) {
	case "cur", "new", "tmp":
		return true
	}
	return false
}

// cloneTree makes dst a copy of src: directories recreated, message files
// hard-linked, other files copied; owners, modes and times kept
// (directories' times last, since Dovecot compares the mtimes of cur/ and
// new/ with the ones in its index to decide whether to rescan them).
func cloneTree(src, dst string) error {
	if err := os.RemoveAll(dst); err != nil {
		return fmt.Errorf("clone %s: %w", dst, err)
	}
	type dirTimes struct {
		path string
		mod  time.Time
	}
	var dirs []dirTimes
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		st, _ := info.Sys().(*syscall.Stat_t)
		switch {
		case d.IsDir():
			if err := os.Mkdir(target, info.Mode().Perm()); err != nil {
				return err
			}
			dirs = append(dirs, dirTimes{target, info.ModTime()})
		case info.Mode().IsRegular() && isMessageDir(filepath.Dir(p)):
			return os.Link(p, target)
		case info.Mode().IsRegular():
			if err := copyFile(p, target, info.Mode().Perm()); err != nil {
				return err
			}
			if err := os.Chtimes(target, info.ModTime(), info.ModTime()); err != nil {
				return err
			}
		default:
			return nil // sockets, symlinks: Maildirs have none
		}
		if st != nil {
			if err := os.Lchown(target, int(st.Uid), int(st.Gid)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("clone %s to %s: %w", src, dst, err)
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := os.Chtimes(dirs[i].path, dirs[i].mod, dirs[i].mod); err != nil {
			return fmt.Errorf("clone %s: %w", dst, err)
		}
	}
	return nil
}

func copyFile(src, dst string, perm os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
