package sample

import (
	"bytes"
	"encoding/binary"
)

// BinaryXML encodes the context as .NET Binary XML ([MC-NBFX], content type application/msbin1):
// the same document as XML, record by record, with every name and namespace written inline.
// XmlDictionaryReader.CreateBinaryReader reads it without a dictionary or session. Dataverse's
// own writer may pick dictionary strings and other text records where this one writes inline
// characters; the document a reader gets is the same.
func (c *RemoteExecutionContext) BinaryXML() []byte {
	var buf bytes.Buffer
	c.document().writeBinary(&buf)
	return buf.Bytes()
}

// [MC-NBFX] record types used here. A text record's type plus one is the same record followed
// by an end element.
const (
	recEndElement          = 0x01
	recShortAttribute      = 0x04
	recAttribute           = 0x05
	recShortXmlnsAttribute = 0x08
	recXmlnsAttribute      = 0x09
	recPrefixAttributeA    = 0x26 // through 0x3F for prefixes a to z
	recShortElement        = 0x40
	recElement             = 0x41
	recPrefixElementA      = 0x5E // through 0x77 for prefixes a to z
	recFalseText           = 0x84
	recTrueText            = 0x86
	recChars8Text          = 0x98
	recChars16Text         = 0x9A
	recChars32Text         = 0x9C
)

// singleLetter reports whether prefix is one of a to z, which have records of their own.
func singleLetter(prefix string) bool {
	return len(prefix) == 1 && prefix[0] >= 'a' && prefix[0] <= 'z'
}

// writeName writes an element's or attribute's record type and name: the short record without
// a prefix, the record of its own for a one-letter prefix, else the general record with the
// prefix inline.
func writeName(buf *bytes.Buffer, prefix, name string, short, letterA, general byte) {
	switch {
	case prefix == "":
		buf.WriteByte(short)
	case singleLetter(prefix):
		buf.WriteByte(letterA + prefix[0] - 'a')
	default:
		buf.WriteByte(general)
		writeString(buf, prefix)
	}
	writeString(buf, name)
}

func (e *element) writeBinary(buf *bytes.Buffer) {
	writeName(buf, e.Prefix, e.Name, recShortElement, recPrefixElementA, recElement)
	for _, a := range e.Attrs {
		switch {
		case a.Prefix == "" && a.Name == "xmlns":
			buf.WriteByte(recShortXmlnsAttribute)
			writeString(buf, a.Value)
		case a.Prefix == "xmlns":
			buf.WriteByte(recXmlnsAttribute)
			writeString(buf, a.Name)
			writeString(buf, a.Value)
		default:
			writeName(buf, a.Prefix, a.Name, recShortAttribute, recPrefixAttributeA, recAttribute)
			writeText(buf, a.Value, false)
		}
	}
	switch {
	case len(e.Children) > 0:
		for _, c := range e.Children {
			c.writeBinary(buf)
		}
		buf.WriteByte(recEndElement)
	case e.Text != "":
		writeText(buf, e.Text, true)
	default:
		buf.WriteByte(recEndElement)
	}
}

// writeText writes one text record: true and false as their own records (as XmlDictionaryWriter
// writes a bool), anything else as UTF-8 characters with the shortest length that fits.
func writeText(buf *bytes.Buffer, s string, endElement bool) {
	var end byte
	if endElement {
		end = 1
	}
	switch {
	case s == "true":
		buf.WriteByte(recTrueText + end)
	case s == "false":
		buf.WriteByte(recFalseText + end)
	case len(s) <= 0xFF:
		buf.WriteByte(recChars8Text + end)
		buf.WriteByte(byte(len(s)))
		buf.WriteString(s)
	case len(s) <= 0xFFFF:
		buf.WriteByte(recChars16Text + end)
		buf.Write(binary.LittleEndian.AppendUint16(nil, uint16(len(s))))
		buf.WriteString(s)
	default:
		buf.WriteByte(recChars32Text + end)
		buf.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(s))))
		buf.WriteString(s)
	}
}

// writeString writes a name or namespace: its UTF-8 length as a MultiByteInt31, then the bytes.
func writeString(buf *bytes.Buffer, s string) {
	n := uint32(len(s))
	for n >= 0x80 {
		buf.WriteByte(byte(n) | 0x80)
		n >>= 7
	}
	buf.WriteByte(byte(n))
	buf.WriteString(s)
}
