// The console's little script: deadlines counting down, the key an auditor pins, and the
// ledger check a request page runs in this browser (with verify.js).
"use strict";

(function () {
  const PINNED = "comity.pinnedKey";

  // "in 3 h 12 min" or "passed 5 min ago", from a <time class="countdown" datetime=…>.
  function left(ms) {
    const past = ms < 0;
    let m = Math.floor(Math.abs(ms) / 60000);
    const d = Math.floor(m / 1440); m -= d * 1440;
    const h = Math.floor(m / 60); m -= h * 60;
    const parts = [];
    if (d) parts.push(d + " d");
    if (h || d) parts.push(h + " h");
    parts.push(m + " min");
    return past ? "passed " + parts.join(" ") + " ago" : "in " + parts.join(" ");
  }

  function tick() {
    document.querySelectorAll("time.countdown").forEach(function (t) {
      const at = Date.parse(t.getAttribute("datetime"));
      if (isNaN(at)) return;
      const ms = at - Date.now();
      t.textContent = t.getAttribute("datetime") + " (" + left(ms) + ")";
      t.classList.toggle("passed", ms < 0);
    });
  }

  // A check begun: its result cleared until it ends.
  function pending(el, text) {
    el.classList.remove("ok", "failed");
    el.textContent = text;
  }

  function status(el, ok, text) {
    el.textContent = text;
    el.classList.remove("ok", "failed");
    el.classList.add(ok ? "ok" : "failed");
  }

  // The Audit page: pin a key (kept in this browser only), or forget it.
  function pinForm() {
    const form = document.getElementById("pin-form");
    if (!form) return;
    const input = document.getElementById("pinned-key");
    const out = document.getElementById("pin-status");
    const pinned = localStorage.getItem(PINNED);
    if (pinned) {
      input.value = pinned;
      out.textContent = "Pinned in this browser.";
    } else {
      out.textContent = "No key pinned in this browser yet.";
    }
    form.addEventListener("submit", async function (e) {
      e.preventDefault();
      pending(out, "Checking the key…");
      const text = input.value.trim();
      try {
        await window.comityVerify.parseVerifierKey(text);
        localStorage.setItem(PINNED, text);
        status(out, true, "Pinned: request pages now check their entries against this key.");
      } catch (err) {
        status(out, false, "Not pinned: " + err.message);
      }
    });
    document.getElementById("unpin").addEventListener("click", function () {
      localStorage.removeItem(PINNED);
      input.value = "";
      status(out, true, "Forgotten: no key is pinned in this browser.");
    });
  }

  // A request page: check its entry's inclusion proof against the latest signed checkpoint.
  function verifyButton() {
    const button = document.getElementById("verify");
    if (!button) return;
    const out = document.getElementById("verify-result");
    button.addEventListener("click", async function () {
      pending(out, "Checking…");
      const vkey = localStorage.getItem(PINNED);
      if (!vkey) {
        status(out, false, "No key pinned: pin the ledger's public key on the Audit page first.");
        return;
      }
      button.disabled = true;
      try {
        const index = Number(button.closest(".verify").dataset.index);
        const entry = document.getElementById("entry").textContent;
        const cp = await fetch("/console/checkpoint", { credentials: "same-origin" });
        if (!cp.ok) throw new Error("the checkpoint could not be fetched (" + cp.status + ")");
        const checkpoint = await cp.text();
        const size = Number(checkpoint.split("\n")[1]);
        const pr = await fetch("/console/proof?index=" + index + "&size=" + size, { credentials: "same-origin" });
        if (!pr.ok) throw new Error("the proof could not be fetched (" + pr.status + ")");
        const proof = await pr.json();
        const r = await window.comityVerify.verifyEntry({ entry, index, proof, checkpoint, vkey });
        const shown = JSON.parse(entry);
        if (r.ok && (shown.kind !== "decision" || shown.request !== button.closest(".verify").dataset.request)) {
          status(out, false, "FAILED: the entry is not the decision on this request");
        } else if (r.ok) {
          status(out, true, "Verified in this browser: entry " + index + " is in the ledger of " + r.size +
            " entries, whose checkpoint is signed by the key you pinned.");
        } else {
          status(out, false, "FAILED: " + r.reason);
        }
      } catch (err) {
        status(out, false, "FAILED: " + err.message);
      } finally {
        button.disabled = false;
      }
    });
  }

  // What a decision entry says of the receipt's act: permitted or required, or why not.
  function decisionPermits(entryText, delivery) {
    let entry;
    try { entry = JSON.parse(entryText); } catch (e) { return "the entry is not JSON"; }
    if (entry.kind !== "decision" || entry.request !== delivery.request) {
      return "the entry is not the decision on request " + delivery.request;
    }
    const act = (entry.decision.acts || []).find(function (a) { return a.act === delivery.act; });
    if (!act) return "the decision does not decide " + delivery.act;
    const owed = delivery.kind === "notice" && (act.limits || []).some(function (l) {
      return (l.notice || []).includes(delivery.recipient);
    });
    if (act.outcome === "forbidden" && !owed) {
      return "the decision forbids " + delivery.act + ", and owes no notice of it to " + delivery.recipient;
    }
    return null;
  }

  // A delivery's id, `<request>/<act>/<recipient>` with `%` and `/` escaped in the parts.
  function deliveryId(d) {
    const part = function (s) { return s.replace(/%/g, "%25").replace(/\//g, "%2F"); };
    return part(d.request) + "/" + d.act + "/" + part(d.recipient);
  }

  // Throws unless `value` is an object with exactly the members `keys` (as comity's own
  // reader of receipts, which refuses any other).
  function exactly(value, keys, what) {
    if (!value || typeof value !== "object" || Array.isArray(value)) throw new Error(what + " is not an object");
    const extra = Object.keys(value).find(function (k) { return !keys.includes(k); });
    if (extra) throw new Error(what + " has a member `" + extra + "` a receipt does not have");
    const missing = keys.find(function (k) { return !(k in value); });
    if (missing) throw new Error(what + " lacks `" + missing + "`");
  }

  // Counsel's page: a receipt file checked in this browser against the pinned key.
  function receiptCheck() {
    const input = document.getElementById("receipt-file");
    if (!input) return;
    const out = document.getElementById("receipt-result");
    input.addEventListener("change", async function () {
      const file = input.files[0];
      if (!file) return;
      pending(out, "Checking " + file.name + "…");
      const vkey = localStorage.getItem(PINNED);
      if (!vkey) {
        status(out, false, "No key pinned: pin the ledger's public key below first.");
        return;
      }
      try {
        const receipt = JSON.parse(await file.text());
        if (receipt.format !== "comity-receipt/1") throw new Error("not a comity receipt");
        exactly(receipt, ["format", "delivery", "entry", "proof", "checkpoint"], "the receipt");
        exactly(receipt.delivery, ["id", "request", "act", "kind", "recipient", "status", "planned_at"], "its delivery");
        exactly(receipt.entry, ["index", "text"], "its entry");
        const r = await window.comityVerify.verifyEntry({
          entry: receipt.entry.text, index: receipt.entry.index,
          proof: receipt.proof, checkpoint: receipt.checkpoint, vkey: vkey });
        if (!r.ok) throw new Error(r.reason);
        if (receipt.proof.leaf_hash !== r.leaf || receipt.proof.root !== r.root) {
          throw new Error("its stated leaf hash or root is not the entry's or the checkpoint's");
        }
        if (receipt.delivery.id !== deliveryId(receipt.delivery)) {
          throw new Error("the delivery's id is not that of its request, act and recipient");
        }
        const wrong = decisionPermits(receipt.entry.text, receipt.delivery);
        if (wrong) throw new Error(wrong);
        status(out, true, "Receipt holds: entry " + receipt.entry.index + " of a ledger of " + r.size +
          " entries records the decision permitting " + receipt.delivery.act + " on request " +
          receipt.delivery.request + ", signed by the key you pinned.");
      } catch (err) {
        status(out, false, "Receipt REFUSED: " + err.message);
      }
    });
  }

  // The Audit page: a verification running, followed until it ends (then the page shows
  // its result).
  function followVerification() {
    const box = document.getElementById("verification-status");
    if (!box || box.dataset.state !== "running") return;
    const timer = setInterval(async function () {
      let v;
      try {
        const r = await fetch("/console/verification", { credentials: "same-origin" });
        if (!r.ok || r.redirected) throw new Error("the session ended");
        v = await r.json();
      } catch (e) {
        clearInterval(timer);
        return;
      }
      if (v.state !== "running") {
        clearInterval(timer);
        location.reload();
        return;
      }
      const bar = document.getElementById("verification-progress");
      bar.max = Math.max(v.total, 1);
      bar.value = v.done;
      document.getElementById("verification-count").textContent = v.done + " of " + v.total + " entries";
    }, 500);
  }

  // A form that writes (an event) is sent once: its button is disabled once pressed.
  function sendOnce() {
    document.querySelectorAll("form[data-once]").forEach(function (form) {
      form.addEventListener("submit", function () {
        form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    sendOnce();
    followVerification();
    receiptCheck();
    tick();
    setInterval(tick, 30000);
    pinForm();
    verifyButton();
  });
})();
