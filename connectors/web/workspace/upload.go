package workspace

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/ticketd/ticketd/connectors/web"
	"github.com/ticketd/ticketd/connectors/web/signin"
	"github.com/ticketd/ticketd/core"
)

// Forms with attachments (reply, comment, a new ticket) are posted as
// multipart/form-data, their files in the field "files".

// MaxUpload is the most a form with attachments may carry in all, fields
// and files as sent: the REST API's limit on the bodies that carry content.
// Each file is then held to the engine's limit on one attachment, as from
// mail and the API.
const MaxUpload = web.DefaultMaxUploadBytes

// uploadMemory is how much of a form is held in memory; the rest of its
// files waits in temporary files until the request ends.
const uploadMemory = 1 << 20

// tooLarge is what a person is told when a form is over MaxUpload.
var tooLarge = "The attachments are too large: a form may carry at most " + strconv.Itoa(MaxUpload>>20) +
	" MB in all. Nothing was sent; attach fewer or smaller files."

var errTooLarge = errors.New("upload too large")

// readUpload reads a multipart form up to MaxUpload, before CheckForm checks
// its token in what was read; a form of another type is left to CheckForm.
// It answers 400 itself for a form that cannot be read (and returns false),
// and returns errTooLarge, having read nothing more, for one over the limit.
func readUpload(w http.ResponseWriter, r *http.Request) (bool, error) {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "multipart/form-data" {
		return true, nil
	}
	if r.ContentLength > MaxUpload {
		return false, errTooLarge
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxUpload)
	if err := r.ParseMultipartForm(uploadMemory); err != nil {
		if r.MultipartForm != nil {
			r.MultipartForm.RemoveAll()
		}
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return false, errTooLarge
		}
		signin.Secure(w)
		http.Error(w, "The form could not be read.", http.StatusBadRequest)
		return false, nil
	}
	return true, nil
}

// uploaded are the files of a form read by readUpload; a file input left
// empty sends a part without a name or bytes, which is no file. A file
// larger than the engine keeps whole is refused with what to do, before
// anything is written (mail and the API record it dropped instead).
func (h *Handler) uploaded(r *http.Request) ([]core.File, error) {
	if r.MultipartForm == nil {
		return nil, nil
	}
	var out []core.File
	for _, fh := range r.MultipartForm.File["files"] {
		if fh.Filename == "" && fh.Size == 0 {
			continue
		}
		if limit := h.eng.System().MaxAttachmentSize(); fh.Size > limit {
			return nil, refused(fmt.Sprintf("%s is %s: one file may be at most %s. Nothing was sent.", fh.Filename, size(fh.Size), size(limit)))
		}
		f, err := fh.Open()
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, core.File{Name: fh.Filename, ContentType: fh.Header.Get("Content-Type"), Data: data})
	}
	return out, nil
}

// cleanUpload removes the temporary files of a form read by readUpload.
func cleanUpload(r *http.Request) {
	if r.MultipartForm != nil {
		r.MultipartForm.RemoveAll()
	}
}

// MaxUploadMB is MaxUpload in megabytes, for the forms' labels.
func (*page) MaxUploadMB() int { return MaxUpload >> 20 }

// size says a number of bytes the way people read it.
func size(n int64) string {
	switch {
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MB"
	case n >= 1<<10:
		return strconv.FormatInt(n>>10, 10) + " KB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
