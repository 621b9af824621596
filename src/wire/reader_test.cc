// The SSH wire reader: every read is bounds-checked, strings are length-
// prefixed, cstrings hold no NUL, mpints follow OpenSSH's
// sshbuf_get_bignum2_bytes_direct() (no negative numbers, at most 16384 bits
// plus one leading zero byte, leading zeros trimmed).
#include "wire/reader.h"

#include <gtest/gtest.h>

#include <string>

#include "wire/writer.h"

namespace keyward::wire {
namespace {

Bytes B(std::initializer_list<int> v) {
  Bytes out;
  for (int x : v) out.push_back(static_cast<std::uint8_t>(x));
  return out;
}

// A string field: 4-byte big-endian length, then the bytes.
Bytes Str(const Bytes& body) {
  Writer w;
  w.String(ByteView(body));
  return w.Take();
}

Bytes Concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(Reader, ReadsIntegersBigEndian) {
  Bytes data = B({0x7f, 0x01, 0x02, 0x03, 0x04, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08});
  Reader r(data);
  EXPECT_EQ(*r.U8(), 0x7f);
  EXPECT_EQ(*r.U32(), 0x01020304u);
  EXPECT_EQ(*r.U64(), 0x0102030405060708ull);
  EXPECT_TRUE(r.empty());
}

TEST(Reader, EveryReadFailsOnEmptyInput) {
  Bytes empty;
  EXPECT_FALSE(Reader(empty).U8().has_value());
  EXPECT_FALSE(Reader(empty).U32().has_value());
  EXPECT_FALSE(Reader(empty).U64().has_value());
  EXPECT_FALSE(Reader(empty).String().has_value());
  EXPECT_FALSE(Reader(empty).CString().has_value());
  EXPECT_FALSE(Reader(empty).MPInt().has_value());
}

TEST(Reader, ShortIntegersFailAndReportTruncated) {
  for (std::size_t n = 0; n < 4; ++n) {
    Bytes data(n, 0x11);
    auto v = Reader(data).U32();
    ASSERT_FALSE(v.has_value()) << n << " bytes";
    EXPECT_EQ(v.error().code, "truncated");
  }
  for (std::size_t n = 0; n < 8; ++n) {
    Bytes data(n, 0x11);
    EXPECT_FALSE(Reader(data).U64().has_value()) << n << " bytes";
  }
}

TEST(Reader, StringReturnsAViewOfItsBytes) {
  Bytes data = Concat(Str(B({'a', 'b', 'c'})), Str({}));
  Reader r(data);
  auto s = r.String();
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(AsText(*s), "abc");
  EXPECT_EQ(s->data(), data.data() + 4);
  auto e = r.String();
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(e->empty());
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r.offset(), data.size());
}

struct BadString {
  const char* name;
  Bytes data;
};

TEST(Reader, StringLengthsBeyondTheDataAreRejectedBeforeUse) {
  const BadString cases[] = {
      {"length_one_more_than_left", B({0, 0, 0, 4, 'a', 'b', 'c'})},
      {"length_0xffffffff", B({0xff, 0xff, 0xff, 0xff, 'a'})},
      {"length_0x80000000", B({0x80, 0, 0, 0})},
      {"length_without_body", B({0, 0, 0, 1})},
      {"truncated_length", B({0, 0, 1})},
  };
  for (const auto& c : cases) {
    Reader r(c.data);
    auto s = r.String();
    ASSERT_FALSE(s.has_value()) << c.name;
    EXPECT_EQ(s.error().code, "truncated") << c.name;
  }
}

TEST(Reader, FailedReadDoesNotConsumeTheBody) {
  Bytes data = B({0, 0, 0, 9, 'a'});
  Reader r(data);
  ASSERT_FALSE(r.String().has_value());
  // The length was read, the body was not: nothing past the data is touched.
  EXPECT_LE(r.offset(), data.size());
  EXPECT_EQ(r.remaining(), data.size() - r.offset());
}

TEST(Reader, CStringRejectsNulExceptAsLastByte) {
  // sshbuf_get_cstring(): "Allow a \0 only at the end of the string".
  for (const Bytes& body : {B({0, 0}), B({0, 'a'}), B({'a', 0, 'b'}), B({'a', 0, 0}), B({'a', 'b', 0, 'c', 0})}) {
    Bytes data = Str(body);
    auto s = Reader(data).CString();
    ASSERT_FALSE(s.has_value()) << body.size();
    EXPECT_EQ(s.error().code, "nul_in_string");
  }
  Bytes ok = Str(B({'s', 's', 'h', '-', 'r', 's', 'a'}));
  auto s = Reader(ok).CString();
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(*s, "ssh-rsa");
  Bytes empty = Str({});
  EXPECT_EQ(*Reader(empty).CString(), "");
}

TEST(Reader, CStringTrailingNulIsConsumedButNotReturned) {
  Bytes data = Concat(Str(B({'a', 'b', 0})), Str(B({0})));
  Reader r(data);
  auto a = r.CString();
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(*a, "ab");
  EXPECT_EQ(a->size(), 2u);
  auto b = r.CString();
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(*b, "");
  EXPECT_TRUE(r.empty());
}

TEST(Reader, CStringAcceptsHighBytes) {
  Bytes data = Str(B({0xc3, 0xa9, 0xff, 0x01}));
  auto s = Reader(data).CString();
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->size(), 4u);
}

struct MPIntCase {
  const char* name;
  Bytes body;
  Bytes magnitude;
};

TEST(Reader, MPIntTrimsLeadingZeros) {
  const MPIntCase cases[] = {
      {"zero_empty", {}, {}},
      {"zero_one_byte", B({0}), {}},
      {"zero_many_bytes", B({0, 0, 0}), {}},
      {"small", B({0x01, 0x00, 0x01}), B({0x01, 0x00, 0x01})},
      {"top_bit_with_pad", B({0x00, 0x80}), B({0x80})},
      {"redundant_zeros", B({0x00, 0x00, 0x00, 0x7f}), B({0x7f})},
      {"redundant_zeros_before_high_byte", B({0x00, 0x00, 0xff}), B({0xff})},
  };
  for (const auto& c : cases) {
    Bytes data = Str(c.body);
    Reader r(data);
    auto v = r.MPInt();
    ASSERT_TRUE(v.has_value()) << c.name << ": " << v.error().message;
    EXPECT_EQ(Bytes(v->begin(), v->end()), c.magnitude) << c.name;
    EXPECT_TRUE(r.empty()) << c.name;
  }
}

TEST(Reader, MPIntRejectsNegativeNumbers) {
  for (const Bytes& body : {B({0x80}), B({0xff}), B({0x80, 0x00}), B({0xff, 0xff, 0xff})}) {
    Bytes data = Str(body);
    auto v = Reader(data).MPInt();
    ASSERT_FALSE(v.has_value());
    EXPECT_EQ(v.error().code, "negative_bignum");
  }
}

TEST(Reader, MPIntLimitIs16384BitsPlusOneZeroByte) {
  // 2048 bytes with the top bit clear: the largest plain number.
  Bytes largest(kMaxBignumBytes, 0x7f);
  auto data = Str(largest);
  auto v = Reader(data).MPInt();
  ASSERT_TRUE(v.has_value()) << v.error().message;
  EXPECT_EQ(v->size(), kMaxBignumBytes);

  // 2049 bytes are allowed only when the first one is the zero pad.
  Bytes padded(kMaxBignumBytes + 1, 0xff);
  padded[0] = 0;
  data = Str(padded);
  v = Reader(data).MPInt();
  ASSERT_TRUE(v.has_value()) << v.error().message;
  EXPECT_EQ(v->size(), kMaxBignumBytes);

  Bytes too_big(kMaxBignumBytes + 1, 0x01);
  data = Str(too_big);
  v = Reader(data).MPInt();
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code, "bignum_too_large");

  // OpenSSH refuses 2050 bytes even when they start with zeros.
  Bytes zeros_then_small(kMaxBignumBytes + 2, 0);
  zeros_then_small.back() = 1;
  data = Str(zeros_then_small);
  v = Reader(data).MPInt();
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code, "bignum_too_large");
}

TEST(Reader, MPIntTruncatedBody) {
  Bytes data = B({0, 0, 0, 3, 0x01, 0x02});
  auto v = Reader(data).MPInt();
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code, "truncated");
}

TEST(Reader, FieldErrorKeepsTheCodeAndNamesTheField) {
  Bytes data = B({0, 0});
  auto v = Reader(data).U32();
  ASSERT_FALSE(v.has_value());
  Error e = FieldError(v.error(), "certificate serial");
  EXPECT_EQ(e.code, "truncated");
  EXPECT_NE(e.message.find("certificate serial"), std::string::npos);
}

TEST(Writer, MPIntIsWrittenInShortestForm) {
  Writer w;
  w.MPInt(ByteView(B({0x00, 0x00, 0x80})));
  w.MPInt(ByteView(B({0x00, 0x7f})));
  w.MPInt(ByteView(B({})));
  EXPECT_EQ(w.bytes(), B({0, 0, 0, 2, 0x00, 0x80, 0, 0, 0, 1, 0x7f, 0, 0, 0, 0}));
  // What the writer writes, the reader reads back.
  Reader r(w.bytes());
  auto a = r.MPInt();
  auto b = r.MPInt();
  auto c = r.MPInt();
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(Bytes(a->begin(), a->end()), B({0x80}));
  EXPECT_EQ(Bytes(b->begin(), b->end()), B({0x7f}));
  EXPECT_TRUE(c->empty());
  EXPECT_TRUE(r.empty());
}

TEST(Writer, RoundTripsThroughTheReader) {
  Writer w;
  w.U8(7);
  w.U32(0xdeadbeef);
  w.U64(0x0123456789abcdefull);
  w.String(std::string_view("ssh-ed25519"));
  w.MPInt(ByteView(B({0x00, 0x80, 0x01})));
  Reader r(w.bytes());
  EXPECT_EQ(*r.U8(), 7);
  EXPECT_EQ(*r.U32(), 0xdeadbeefu);
  EXPECT_EQ(*r.U64(), 0x0123456789abcdefull);
  EXPECT_EQ(*r.CString(), "ssh-ed25519");
  auto m = r.MPInt();
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(Bytes(m->begin(), m->end()), B({0x80, 0x01}));
  EXPECT_TRUE(r.empty());
}

}  // namespace
}  // namespace keyward::wire
