/* basE91 decoder (alphabet: printable ASCII but the double quote, backslash and "<"). */
function iadsimBase91Decode(str, size) {
  var A = "", dec = new Int16Array(128).fill(-1), out = new Uint8Array(size), o = 0;
  for (var c = 33; c < 127; c++) if (c !== 34 && c !== 92 && c !== 60) A += String.fromCharCode(c);
  for (var k = 0; k < A.length; k++) dec[A.charCodeAt(k)] = k;
  var v = -1, b = 0, n = 0;
  for (var i = 0; i < str.length; i++) {
    var d = dec[str.charCodeAt(i)];
    if (d < 0) continue;
    if (v < 0) { v = d; continue; }
    v += d * 91;
    b |= v << n;
    n += (v & 8191) > 88 ? 13 : 14;
    do { out[o++] = b & 255; b >>>= 8; n -= 8; } while (n > 7);
    v = -1;
  }
  if (v > -1) out[o++] = (b | v << n) & 255;
  return out.subarray(0, o);
}

/* LZMA ("lzma alone") decoder: inflates the inlined plotly.js of the report (offline, no library).
   Follows the LZMA specification of the LZMA SDK (LzmaSpec.cpp, public domain). */
function iadsimLzmaDecode(inp, outSize) {
  var d = inp[0], lc = d % 9; d = (d / 9) | 0;
  var lp = d % 5, pb = (d / 5) | 0, pos = 13;
  var out = new Uint8Array(outSize), op = 0;
  var range = 0xFFFFFFFF, code = 0;
  pos++;
  for (var i = 0; i < 4; i++) code = ((code << 8) | inp[pos++]) >>> 0;
  function probs(n) { var a = new Uint16Array(n); a.fill(1024); return a; }
  function bit(p, i) {
    var v = p[i], bound = (range >>> 11) * v, b;
    if (code < bound) { range = bound; p[i] = v + ((2048 - v) >>> 5); b = 0; }
    else { range -= bound; code -= bound; p[i] = v - (v >>> 5); b = 1; }
    if (range < 0x1000000) { range = (range << 8) >>> 0; code = ((code << 8) | inp[pos++]) >>> 0; }
    return b;
  }
  function direct(n) {
    var res = 0;
    while (n--) {
      range >>>= 1;
      var t = 0;
      if (code >= range) { code -= range; t = 1; }
      res = ((res << 1) | t) >>> 0;
      if (range < 0x1000000) { range = (range << 8) >>> 0; code = ((code << 8) | inp[pos++]) >>> 0; }
    }
    return res;
  }
  function tree(p, base, n) { var m = 1; for (var k = 0; k < n; k++) m = (m << 1) + bit(p, base + m); return m - (1 << n); }
  function treeRev(p, base, n) {
    var m = 1, s = 0;
    for (var k = 0; k < n; k++) { var b = bit(p, base + m); m = (m << 1) + b; s |= b << k; }
    return s;
  }
  function lenCoder() { return {choice: probs(2), low: probs(16 << 3), mid: probs(16 << 3), high: probs(256)}; }
  function decLen(c, ps) {
    if (!bit(c.choice, 0)) return tree(c.low, ps << 3, 3);
    if (!bit(c.choice, 1)) return 8 + tree(c.mid, ps << 3, 3);
    return 16 + tree(c.high, 0, 8);
  }
  var lit = probs(0x300 << (lc + lp)), isMatch = probs(12 << 4), isRep = probs(12), isRepG0 = probs(12),
      isRepG1 = probs(12), isRepG2 = probs(12), isRep0Long = probs(12 << 4), posSlot = probs(4 << 6),
      posDec = probs(115), align = probs(16), lenDec = lenCoder(), repLenDec = lenCoder();
  var state = 0, rep0 = 0, rep1 = 0, rep2 = 0, rep3 = 0, pbMask = (1 << pb) - 1, lpMask = (1 << lp) - 1;
  while (op < outSize) {
    var ps = op & pbMask;
    if (!bit(isMatch, (state << 4) + ps)) {
      var prev = op > 0 ? out[op - 1] : 0;
      var base = 0x300 * (((op & lpMask) << lc) + (prev >>> (8 - lc))), sym = 1;
      if (state >= 7) {
        var mbyte = out[op - rep0 - 1];
        do {
          var mb = (mbyte >>> 7) & 1; mbyte <<= 1;
          var b = bit(lit, base + ((1 + mb) << 8) + sym);
          sym = (sym << 1) | b;
          if (mb !== b) break;
        } while (sym < 0x100);
      }
      while (sym < 0x100) sym = (sym << 1) | bit(lit, base + sym);
      out[op++] = sym & 0xFF;
      state = state < 4 ? 0 : (state < 10 ? state - 3 : state - 6);
      continue;
    }
    var len;
    if (bit(isRep, state)) {
      if (!bit(isRepG0, state)) {
        if (!bit(isRep0Long, (state << 4) + ps)) {
          state = state < 7 ? 9 : 11; out[op] = out[op - rep0 - 1]; op++; continue;
        }
      } else {
        var dist;
        if (!bit(isRepG1, state)) dist = rep1;
        else { if (!bit(isRepG2, state)) dist = rep2; else { dist = rep3; rep3 = rep2; } rep2 = rep1; }
        rep1 = rep0; rep0 = dist;
      }
      len = decLen(repLenDec, ps);
      state = state < 7 ? 8 : 11;
    } else {
      rep3 = rep2; rep2 = rep1; rep1 = rep0;
      len = decLen(lenDec, ps);
      state = state < 7 ? 7 : 10;
      var ls = len > 3 ? 3 : len, slot = tree(posSlot, ls << 6, 6);
      if (slot < 4) rep0 = slot;
      else {
        var nd = (slot >>> 1) - 1, dd = (2 | (slot & 1)) * Math.pow(2, nd);
        if (slot < 14) dd += treeRev(posDec, dd - slot, nd);
        else dd += direct(nd - 4) * 16 + treeRev(align, 0, 4);
        rep0 = dd;
      }
      if (rep0 === 0xFFFFFFFF) break;
    }
    len += 2;
    if (rep0 >= op) throw new Error("corrupt LZMA data");
    for (; len > 0 && op < outSize; len--) { out[op] = out[op - rep0 - 1]; op++; }
  }
  if (op !== outSize) throw new Error("truncated LZMA data");
  return out;
}
