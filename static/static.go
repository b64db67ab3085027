// Package static holds the portal's CSS, scripts and icons, embedded into the binary, and
// serves them under content-hashed names with long cache lifetimes.
//
// Pages ask URL("app.css") for the current name ("/static/app.3f9c2a1b7d.css"); the hashed
// name changes whenever the file does, so browsers may cache it for a year. Files asked for
// by their plain name are served too, with an ETag and revalidation. Nothing here loads from
// another site.
package static

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed all:files
var embedded embed.FS

// Prefix is the URL path under which static files are served.
const Prefix = "/static/"

type asset struct {
	name        string // plain name, e.g. "app.css"
	hashedName  string // e.g. "app.3f9c2a1b7d.css"
	etag        string
	contentType string
	body        []byte
}

var (
	byName   = map[string]*asset{}
	byHashed = map[string]*asset{}
)

func init() {
	files, err := fs.Sub(embedded, "files")
	if err != nil {
		panic(err)
	}
	err = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(files, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		h := hex.EncodeToString(sum[:])[:10]
		ext := path.Ext(p)
		a := &asset{
			name:        p,
			hashedName:  strings.TrimSuffix(p, ext) + "." + h + ext,
			etag:        `"` + h + `"`,
			contentType: mime.TypeByExtension(ext),
			body:        body,
		}
		if a.contentType == "" {
			a.contentType = http.DetectContentType(body)
		}
		byName[a.name] = a
		byHashed[a.hashedName] = a
		return nil
	})
	if err != nil {
		panic(err)
	}
}

// URL returns the content-hashed URL of the named file. It panics for a file that is not
// embedded, so a wrong name fails every test that renders the page.
func URL(name string) string {
	a, ok := byName[name]
	if !ok {
		panic("static: no embedded file " + name)
	}
	return Prefix + a.hashedName
}

// Handler serves embedded files below Prefix: hashed names with a one-year immutable cache
// lifetime, plain names with an ETag and revalidation. Unknown names get 404.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, Prefix)
		a, immutable := byHashed[name]
		if !immutable {
			a = byName[name]
		}
		if a == nil {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.contentType)
		h.Set("ETag", a.etag)
		if immutable {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "public, max-age=0, must-revalidate")
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
	})
}
