// The ledger checked in the browser, so that an auditor or counsel need not trust the server:
// an entry's RFC 6962 / RFC 9162 inclusion proof (SHA-256 by WebCrypto) and the C2SP signed
// checkpoint it leads to (Ed25519 by WebCrypto), against a public key pinned by the person
// checking. The same checks, and the same refusals, as comity-ledger's `verify_inclusion`,
// `NoteVerifier::from_verifier_key`, `open_note` and `Checkpoint::parse`, and as
// `Receipt::check` in comity-server.
//
// Plain script, no build step, no dependencies: defines `comityVerify` on the global object
// (window in a browser, globalThis in Node 20). Tested by tests/browser/verify-vectors.mjs.
"use strict";

(function (global) {
  const utf8 = new TextEncoder();

  /** WebCrypto, which a browser gives only to a secure context (HTTPS, or localhost). */
  function subtle() {
    const s = global.crypto && global.crypto.subtle;
    if (!s) throw new Error("this browser gives no WebCrypto here: the page must be served over HTTPS (or from localhost)");
    return s;
  }

  // ---- Bytes -------------------------------------------------------------------------------

  /** Hex (either case, as comity-ledger's `from_hex`) to bytes. */
  function fromHex(text) {
    if (typeof text !== "string" || !/^([0-9a-fA-F]{2})*$/.test(text)) throw new Error("not hex: " + text);
    const out = new Uint8Array(text.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(2 * i, 2), 16);
    return out;
  }

  /** Bytes to lowercase hex (as comity prints hashes). */
  function toHex(bytes) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function toBase64(bytes) {
    return btoa(String.fromCharCode(...bytes));
  }

  /** Standard, padded, canonical base64 only (no stray bits), as Rust's base64 STANDARD. */
  function fromBase64(text) {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) throw new Error("not base64: " + text);
    const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
    if (toBase64(bytes) !== text) throw new Error("not canonical base64: " + text);
    return bytes;
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
    return new Uint8Array(await subtle().digest("SHA-256", bytes));
  }

  // ---- The Merkle tree (RFC 6962 § 2.1, RFC 9162 § 2.1.3.2) --------------------------------

  /** SHA-256(0x00 || entry): an entry's leaf hash. */
  async function leafHash(entryBytes) {
    return sha256(concat(Uint8Array.of(0), entryBytes));
  }

  /** SHA-256(0x01 || left || right): an interior node. */
  async function nodeHash(left, right) {
    return sha256(concat(Uint8Array.of(1), left, right));
  }

  /** The number of hashes in PATH(m, D[n]), m < n (RFC 9162 § 2.1.3.1). */
  function pathLength(m, n) {
    if (n <= 1) return 0;
    let k = 1;
    while (k * 2 < n) k *= 2; // the largest power of two below n
    return 1 + (m < k ? pathLength(m, k) : pathLength(m - k, n - k));
  }

  /**
   * The root an inclusion proof leads to (RFC 9162 § 2.1.3.2): leaf `index` of a tree of
   * `size` leaves, whose leaf hash is `leaf`, with the audit path `proof` (32-byte hashes,
   * from the leaf up). Throws when the proof cannot be one for this index and size; the
   * caller compares the root with the one it trusts.
   */
  async function rootFromInclusion(index, size, leaf, proof) {
    if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) {
      throw new Error("leaf " + index + " is not in a tree of " + size + " leaves");
    }
    if (!Array.isArray(proof)) throw new Error("the proof is not a list of hashes");
    if (leaf.length !== 32 || proof.some((p) => !(p instanceof Uint8Array) || p.length !== 32)) {
      throw new Error("a hash is not 32 bytes");
    }
    const expected = pathLength(index, size);
    if (proof.length !== expected) {
      throw new Error("the proof has " + proof.length + " hashes, and a proof for leaf " + index +
        " of a tree of " + size + " has " + expected);
    }
    // The RFC's steps, which check the length again on their own.
    let fn = index, sn = size - 1, r = leaf;
    for (const p of proof) {
      if (sn === 0) throw new Error("the proof is longer than the path of leaf " + index);
      if (fn % 2 === 1 || fn === sn) {
        r = await nodeHash(p, r);
        while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      } else {
        r = await nodeHash(r, p);
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    if (sn !== 0) throw new Error("the proof is shorter than the path of leaf " + index);
    return r;
  }

  // ---- Ed25519 keys the way ed25519-dalek takes them ---------------------------------------

  // The y-coordinates (little-endian, sign bit cleared) of the points of small order, as
  // libsodium's blocklist: 0, 1, two of order 8, p - 1, p and p + 1. WebCrypto accepts such
  // a key, under which anyone can forge; comity (dalek's `is_weak`, `verify_strict`) refuses
  // it as a key and as a signature's R.
  const SMALL_ORDER = [
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  ];

  function isSmallOrder(point) {
    const y = Uint8Array.from(point);
    y[31] &= 0x7f;
    return SMALL_ORDER.includes(toHex(y));
  }

  // Whether 32 bytes decode to a point of edwards25519 (dalek's decompression: y reduced
  // mod p, then x² = (y² − 1) / (d·y² + 1) must be a square).
  const P = 2n ** 255n - 19n;
  function modPow(b, e) {
    let r = 1n;
    for (b %= P; e > 0n; e >>= 1n, b = (b * b) % P) if (e & 1n) r = (r * b) % P;
    return r;
  }
  function isPoint(point) {
    let y = 0n;
    for (let i = 31; i >= 0; i--) y = (y << 8n) | BigInt(i === 31 ? point[i] & 0x7f : point[i]);
    y %= P;
    const d = (P - 121665n) * modPow(121666n, P - 2n) % P;
    const x2 = (y * y - 1n + P) % P * modPow((d * y * y + 1n) % P, P - 2n) % P;
    return x2 === 0n || modPow(x2, (P - 1n) / 2n) === 1n;
  }

  // ---- Signed notes (C2SP signed-note) -----------------------------------------------------

  /** A key name: not empty, no `+`, no Unicode white space (Rust's `char::is_whitespace`). */
  function validName(name) {
    return name.length > 0 && !/[\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000+]/.test(name);
  }

  /** The key ID of a note key: the first 4 bytes of SHA-256(name || "\n" || 0x01 || key). */
  async function keyId(name, key) {
    return (await sha256(concat(utf8.encode(name + "\n"), Uint8Array.of(1), key))).slice(0, 4);
  }

  /**
   * A verifier key `<name>+<key ID, 8 lowercase hex>+base64(0x01 || Ed25519 key)` (as
   * `comity audit key` prints it), checked and imported: `{name, id, key}`. Surrounding
   * white space, as a paste brings, is ignored.
   */
  async function parseVerifierKey(vkeyText) {
    const text = String(vkeyText).trim();
    // The key's base64 may hold "+" itself: split at the first two only.
    const first = text.indexOf("+"), second = text.indexOf("+", first + 1);
    if (first < 0 || second < 0) throw new Error("a key is <name>+<key ID>+<key>");
    const name = text.slice(0, first), id = text.slice(first + 1, second);
    if (!validName(name)) throw new Error("the key name is empty or has a space or a + in it");
    if (!/^[0-9a-f]{8}$/.test(id)) throw new Error("the key ID is not 8 lowercase hex digits");
    const typed = fromBase64(text.slice(second + 1));
    if (typed[0] !== 1) throw new Error("not an Ed25519 key (signature type 0x01)");
    const key = typed.slice(1);
    if (key.length !== 32) throw new Error("an Ed25519 key is 32 bytes, not " + key.length);
    if (!isPoint(key) || isSmallOrder(key)) throw new Error("not a usable Ed25519 public key");
    if (toHex(await keyId(name, key)) !== id) throw new Error("the key ID does not match the name and key");
    const imported = await subtle().importKey("raw", key, { name: "Ed25519" }, false, ["verify"]);
    return { name, id: fromHex(id), key: imported };
  }

  /**
   * The signed text of a note (ending at its last blank line, keeping its final newline),
   * once the signatures by `verifier` hold. Lines `— <name> base64(key ID || signature)` by
   * other keys are skipped; every line with the verifier's name and key ID must verify, and
   * at least one must be there. Throws saying why otherwise.
   */
  async function openNote(noteText, verifier) {
    if (/[\u0000-\u0009\u000b-\u001f]/.test(noteText)) throw new Error("a control character other than newline in the note");
    const split = noteText.lastIndexOf("\n\n");
    if (split < 0) throw new Error("no blank line before the signatures");
    const text = noteText.slice(0, split + 1);
    const signatures = noteText.slice(split + 2);
    if (!signatures) throw new Error("no signature lines");
    if (!signatures.endsWith("\n")) throw new Error("the last signature line does not end in a newline");
    const lines = signatures.slice(0, -1).split("\n");
    if (lines.length > 100) throw new Error("more than 100 signatures");
    let verified = false;
    for (const line of lines) {
      const m = /^\u2014 ([^ ]*) (.*)$/.exec(line);
      if (!m) throw new Error("a signature line is not `\u2014 <name> <signature>`");
      let blob;
      try { blob = fromBase64(m[2]); } catch { throw new Error("a signature is not standard base64"); }
      if (!validName(m[1]) || blob.length < 5) throw new Error("a signature line has a bad key name or signature");
      if (m[1] !== verifier.name || !equal(blob.slice(0, 4), verifier.id)) continue;
      const sig = blob.slice(4);
      const ok = sig.length === 64 && !isSmallOrder(sig.slice(0, 32)) &&
        await subtle().verify({ name: "Ed25519" }, verifier.key, sig, utf8.encode(text));
      if (!ok) throw new Error("the signature by " + verifier.name + "+" + toHex(verifier.id) + " does not verify");
      verified = true;
    }
    if (!verified) throw new Error("the note has no signature by " + verifier.name + "+" + toHex(verifier.id));
    return text;
  }

  /**
   * A checkpoint's text (C2SP tlog-checkpoint), exactly as comity writes it: origin, decimal
   * size (no sign, no leading zero), canonical base64 root of 32 bytes, each line ending in a
   * newline, and no extension lines. `{origin, size, root}`, root as bytes.
   */
  function parseCheckpoint(text) {
    if (!text.endsWith("\n")) throw new Error("a checkpoint ends in a newline");
    const lines = text.slice(0, -1).split("\n");
    if (lines.length < 3) throw new Error("the checkpoint has no " + ["origin", "tree size", "root hash"][lines.length] + " line");
    const [origin, size, root] = lines;
    if (!origin) throw new Error("the checkpoint's origin is empty");
    if (!/^(0|[1-9][0-9]*)$/.test(size)) throw new Error("tree size " + JSON.stringify(size) + " is not a decimal number without a leading zero");
    if (!Number.isSafeInteger(Number(size))) throw new Error("tree size " + size + " is too large to check here");
    let rootBytes;
    try { rootBytes = fromBase64(root); } catch { rootBytes = null; }
    if (!rootBytes || rootBytes.length !== 32) throw new Error("root hash " + JSON.stringify(root) + " is not 32 bytes in standard base64");
    if (lines.length > 3) throw new Error("the checkpoint has " + (lines.length - 3) + " extension line(s); comity writes and accepts none");
    return { origin, size: Number(size), root: rootBytes };
  }

  /**
   * A signed checkpoint opened with `verifier` (as `parseVerifierKey` returns it, or a
   * verifier key's text): `{text, origin, size, root}`. Throws naming the signature or the
   * checkpoint's text.
   */
  async function verifyNote(noteText, verifier) {
    if (typeof verifier === "string") verifier = await parseVerifierKey(verifier);
    const text = await openNote(noteText, verifier);
    try {
      return { text, ...parseCheckpoint(text) };
    } catch (e) {
      throw new Error("the signed text is not a checkpoint: " + e.message);
    }
  }

  // ---- One entry, all the way ----------------------------------------------------------------

  const PROOF_MEMBERS = ["hashes", "leaf_hash", "leaf_index", "root", "tree_size"];

  /**
   * The whole check of entry `index`, as `Receipt::check` makes it: `checkpoint` (the note
   * text) is signed by the pinned key `vkey`; `proof` (the JSON of GET /v1/audit/proof,
   * {leaf_index, tree_size, leaf_hash, hashes, root}, hashes in hex) is for this entry in the
   * checkpoint's tree; and its path leads from SHA-256(0x00 || UTF-8 of `entry`) to the
   * checkpoint's root. The proof's `leaf_hash` and `root` are the server's word and are
   * recomputed, not read.
   * Returns `{ok: true, origin, size, root (hex)}` or `{ok: false, step, reason}`, the step
   * one of "key", "signature", "checkpoint", "size", "index", "proof", "root".
   */
  async function verifyEntry({ entry, index, proof, checkpoint, vkey }) {
    const fail = (step, reason) => ({ ok: false, step, reason });
    let verifier, text, head;
    try { verifier = await parseVerifierKey(vkey); } catch (e) { return fail("key", "the pinned key: " + e.message); }
    try { text = await openNote(String(checkpoint), verifier); } catch (e) { return fail("signature", "the checkpoint: " + e.message); }
    try { head = parseCheckpoint(text); } catch (e) { return fail("checkpoint", "the checkpoint: the signed text is not a checkpoint: " + e.message); }
    // comity's key is named for its log: another log's checkpoint signed with the same key
    // is not this log's.
    if (head.origin !== verifier.name) {
      return fail("checkpoint", "the checkpoint is of the log " + head.origin + ", not " + verifier.name);
    }
    if (!proof || typeof proof !== "object" || Object.keys(proof).sort().join() !== PROOF_MEMBERS.join()) {
      return fail("proof", "the proof: not an inclusion proof {" + PROOF_MEMBERS.join(", ") + "}");
    }
    if (proof.tree_size !== head.size) {
      return fail("size", "the proof is for a tree of " + proof.tree_size + " entries, the checkpoint's has " + head.size);
    }
    if (proof.leaf_index !== index) {
      return fail("index", "the proof is for entry " + proof.leaf_index + ", not " + index);
    }
    if (typeof entry !== "string") return fail("proof", "the entry is not text");
    const leaf = await leafHash(utf8.encode(entry));
    let root;
    try {
      if (!Array.isArray(proof.hashes) || proof.hashes.some((h) => typeof h !== "string" || h.length !== 64)) {
        throw new Error("a hash is not 64 hex digits");
      }
      root = await rootFromInclusion(index, head.size, leaf, proof.hashes.map(fromHex));
    } catch (e) {
      return fail("proof", "the proof: " + e.message);
    }
    if (!equal(root, head.root)) {
      return fail("root", "the proof does not lead to the checkpoint's root: entry " + index +
        " (leaf hash " + toHex(leaf) + ") is not proven in it");
    }
    return { ok: true, origin: head.origin, size: head.size, root: toHex(head.root), leaf: toHex(leaf) };
  }

  global.comityVerify = {
    leafHash, nodeHash, rootFromInclusion, parseVerifierKey, openNote, parseCheckpoint,
    verifyNote, verifyEntry, toHex, fromHex, fromBase64,
  };
})(globalThis);
