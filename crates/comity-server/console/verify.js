// The ledger checked in the browser, so that an auditor or counsel need not trust the server:
// an entry's RFC 6962 / RFC 9162 inclusion proof (SHA-256 by WebCrypto) and the C2SP signed
// checkpoint it leads to (Ed25519 by WebCrypto), against a public key pinned by the person
// checking. The same checks as comity-ledger's `verify_inclusion` and `open_checkpoint`.
//
// Plain script, no build step: defines `comityVerify` on the global object (also in Node).
"use strict";

(function (global) {
  const subtle = global.crypto.subtle;
  const utf8 = new TextEncoder();

  function fromHex(text) {
    if (!/^([0-9a-f]{2})*$/.test(text)) throw new Error("not lowercase hex: " + text);
    const out = new Uint8Array(text.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(2 * i, 2), 16);
    return out;
  }

  function toHex(bytes) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function fromBase64(text) {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
      throw new Error("not base64: " + text);
    }
    const raw = atob(text);
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  }

  function concat(...parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  }

  function equal(a, b) {
    return a.length === b.length && a.every((x, i) => x === b[i]);
  }

  async function sha256(bytes) {
    return new Uint8Array(await subtle.digest("SHA-256", bytes));
  }

  /** SHA-256(0x00 || entry): an entry's leaf hash. */
  async function leafHash(entryBytes) {
    return sha256(concat(Uint8Array.of(0), entryBytes));
  }

  /** SHA-256(0x01 || left || right): an interior node. */
  async function nodeHash(left, right) {
    return sha256(concat(Uint8Array.of(1), left, right));
  }

  /**
   * The root an inclusion proof leads to, by RFC 9162 § 2.1.3.2: leaf `index` of a tree of
   * `size` leaves, with the audit path `proof` (hashes, leaf up).
   */
  async function rootFromInclusion(index, size, leaf, proof) {
    if (!(Number.isSafeInteger(index) && Number.isSafeInteger(size)) || index < 0 || index >= size) {
      throw new Error("leaf " + index + " is not in a tree of " + size + " leaves");
    }
    let fn = index, sn = size - 1, r = leaf;
    for (const p of proof) {
      if (sn === 0) throw new Error("the proof is longer than the path of leaf " + index);
      if (fn % 2 === 1 || fn === sn) {
        r = await nodeHash(p, r);
        if (fn % 2 === 0) {
          while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
        }
      } else {
        r = await nodeHash(r, p);
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    if (sn !== 0) throw new Error("the proof is shorter than the path of leaf " + index);
    return r;
  }

  /** The key ID of a note key: the first 4 bytes of SHA-256(name || "\n" || 0x01 || key). */
  async function keyId(name, key) {
    return (await sha256(concat(utf8.encode(name + "\n"), Uint8Array.of(1), key))).slice(0, 4);
  }

  /** A verifier key `<name>+<key ID hex>+base64(0x01 || Ed25519 key)`, checked and imported. */
  async function parseVerifierKey(text) {
    // The key's base64 may hold "+" itself: split at the first two only.
    const m = /^([^+]+)\+([^+]*)\+(.*)$/.exec(String(text).trim());
    if (!m) throw new Error("a key is <name>+<key ID>+<key>");
    const [, name, id, encoded] = m;
    if (!/^[0-9a-f]{8}$/.test(id)) throw new Error("the key ID is not 8 hex digits");
    const typed = fromBase64(encoded);
    if (typed.length !== 33 || typed[0] !== 1) throw new Error("not an Ed25519 key");
    const key = typed.slice(1);
    if (toHex(await keyId(name, key)) !== id) throw new Error("the key ID does not match the key");
    const imported = await subtle.importKey("raw", key, { name: "Ed25519" }, false, ["verify"]);
    return { name, id: fromHex(id), key: imported };
  }

  /**
   * The text of a signed note once a signature by `verifier` holds: the text ends at the last
   * blank line (keeping its final newline); signature lines by other keys are skipped.
   */
  async function openNote(note, verifier) {
    if (/[\u0000-\u0009\u000b-\u001f\u007f]/.test(note)) throw new Error("a control character in the note");
    const split = note.lastIndexOf("\n\n");
    if (split < 0) throw new Error("no blank line before the signatures");
    const text = note.slice(0, split + 1);
    const signatures = note.slice(split + 2);
    if (!signatures.endsWith("\n")) throw new Error("the last signature line does not end in a newline");
    for (const line of signatures.slice(0, -1).split("\n")) {
      const m = /^\u2014 (\S+) (\S+)$/.exec(line);
      if (!m) throw new Error("a malformed signature line");
      if (m[1] !== verifier.name) continue;
      const blob = fromBase64(m[2]);
      if (blob.length < 4 || !equal(blob.slice(0, 4), verifier.id)) continue;
      if (blob.length !== 68) throw new Error("a signature of the wrong length");
      if (await subtle.verify({ name: "Ed25519" }, verifier.key, blob.slice(4), utf8.encode(text))) {
        return text;
      }
      throw new Error("the signature by " + verifier.name + " does not verify");
    }
    throw new Error("no signature by the pinned key " + verifier.name);
  }

  /** A checkpoint's note text: origin, decimal size, base64 root, nothing else. */
  function parseCheckpoint(text) {
    const lines = text.split("\n");
    if (lines.length !== 4 || lines[3] !== "") throw new Error("a checkpoint is three lines");
    const [origin, size, root] = lines;
    if (!origin) throw new Error("the checkpoint has no origin");
    if (!/^(0|[1-9][0-9]*)$/.test(size) || !Number.isSafeInteger(Number(size))) {
      throw new Error("the checkpoint's size is not a number");
    }
    const rootBytes = fromBase64(root);
    if (rootBytes.length !== 32) throw new Error("the checkpoint's root is not 32 bytes");
    return { origin, size: Number(size), root: rootBytes };
  }

  /** A signed checkpoint, opened with `verifier`. */
  async function verifyCheckpoint(note, verifier) {
    return parseCheckpoint(await openNote(note, verifier));
  }

  /**
   * The whole check of one entry: the checkpoint is signed by the pinned key, and the proof
   * leads from the entry's leaf hash to the checkpoint's root. `{ok: true, size, root}` or
   * `{ok: false, reason}` naming the step that failed.
   */
  async function verifyEntry({ entry, index, proof, checkpoint, vkey }) {
    let verifier, head, leaf, hashes;
    try { verifier = await parseVerifierKey(vkey); } catch (e) { return { ok: false, reason: "the pinned key: " + e.message }; }
    try { head = await verifyCheckpoint(checkpoint, verifier); } catch (e) { return { ok: false, reason: "the checkpoint: " + e.message }; }
    if (proof.tree_size !== head.size) {
      return { ok: false, reason: "the proof is for a tree of " + proof.tree_size + " entries, the checkpoint's has " + head.size };
    }
    if (proof.leaf_index !== index) {
      return { ok: false, reason: "the proof is for entry " + proof.leaf_index + ", not " + index };
    }
    leaf = await leafHash(utf8.encode(entry));
    try {
      hashes = proof.hashes.map(fromHex);
      const root = await rootFromInclusion(index, head.size, leaf, hashes);
      if (!equal(root, head.root)) {
        return { ok: false, reason: "the proof does not lead to the checkpoint's root: entry " + index + " is not proven in it" };
      }
    } catch (e) {
      return { ok: false, reason: "the proof: " + e.message };
    }
    return { ok: true, size: head.size, root: toHex(head.root) };
  }

  global.comityVerify = {
    leafHash, nodeHash, rootFromInclusion, parseVerifierKey, openNote, parseCheckpoint,
    verifyCheckpoint, verifyEntry, toHex, fromHex,
  };
})(globalThis);
