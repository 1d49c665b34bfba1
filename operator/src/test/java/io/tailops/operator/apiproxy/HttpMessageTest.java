package io.tailops.operator.apiproxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class HttpMessageTest {
  static InputStream in(String s) {
    return new ByteArrayInputStream(s.getBytes(StandardCharsets.ISO_8859_1));
  }

  @Test
  void readsAHeadAndLeavesTheBody() throws Exception {
    InputStream in = in("GET /api/v1/pods?watch=1 HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Upgrade\r\n"
        + "Content-Length: 3\r\n\r\nabcGET");
    HttpMessage m = HttpMessage.read(in).orElseThrow();
    assertThat(m.method()).isEqualTo("GET");
    assertThat(m.target()).isEqualTo("/api/v1/pods?watch=1");
    assertThat(m.path()).isEqualTo("/api/v1/pods");
    assertThat(m.hasToken("connection", "upgrade")).isTrue();
    assertThat(m.requestBody()).isEqualTo(HttpMessage.BodyKind.LENGTH);
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    m.relayBody(HttpMessage.BodyKind.LENGTH, in, body);
    assertThat(body.toString(StandardCharsets.ISO_8859_1)).isEqualTo("abc");
    assertThat(new String(in.readAllBytes(), StandardCharsets.ISO_8859_1)).isEqualTo("GET");
  }

  @Test
  void anEmptyConnectionIsNoMessage() throws Exception {
    assertThat(HttpMessage.read(in(""))).isEmpty();
  }

  @Test
  void relaysChunkedBodiesVerbatimAndStopsAtTheLastChunk() throws Exception {
    String chunked = "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: t\r\n\r\n";
    InputStream in = in("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked + "NEXT");
    HttpMessage m = HttpMessage.read(in).orElseThrow();
    assertThat(m.responseBody("GET")).isEqualTo(HttpMessage.BodyKind.CHUNKED);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    m.relayBody(HttpMessage.BodyKind.CHUNKED, in, out);
    assertThat(out.toString(StandardCharsets.ISO_8859_1)).isEqualTo(chunked);
    assertThat(new String(in.readAllBytes(), StandardCharsets.ISO_8859_1)).isEqualTo("NEXT");
  }

  @Test
  void decodesChunkedBodies() throws Exception {
    InputStream in = in("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{\"a\r\n2\r\n\":\r\n1\r\n1\r\n1\r\n}\r\n0\r\n\r\n");
    HttpMessage m = HttpMessage.read(in).orElseThrow();
    assertThat(new String(m.readBody(m.responseBody("GET"), in, 100), StandardCharsets.UTF_8)).isEqualTo("{\"a\":1}");
  }

  @Test
  void responseBodyRules() throws Exception {
    assertThat(HttpMessage.read(in("HTTP/1.1 204 No Content\r\n\r\n")).orElseThrow().responseBody("GET"))
        .isEqualTo(HttpMessage.BodyKind.NONE);
    assertThat(HttpMessage.read(in("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n")).orElseThrow()
        .responseBody("HEAD")).isEqualTo(HttpMessage.BodyKind.NONE);
    assertThat(HttpMessage.read(in("HTTP/1.1 101 Switching Protocols\r\nUpgrade: SPDY/3.1\r\n\r\n")).orElseThrow()
        .responseBody("POST")).isEqualTo(HttpMessage.BodyKind.NONE);
    assertThat(HttpMessage.read(in("HTTP/1.1 200 OK\r\n\r\n")).orElseThrow().responseBody("GET"))
        .isEqualTo(HttpMessage.BodyKind.UNTIL_CLOSE);
  }

  @Test
  void refusesAmbiguousFraming() throws Exception {
    HttpMessage twoLengths = HttpMessage.read(in("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"))
        .orElseThrow();
    assertThatThrownBy(twoLengths::requestBody).isInstanceOf(HttpMessage.MalformedException.class);
    HttpMessage gzip = HttpMessage.read(in("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n")).orElseThrow();
    assertThatThrownBy(gzip::requestBody).isInstanceOf(HttpMessage.MalformedException.class);
    assertThatThrownBy(() -> HttpMessage.read(in("GET / HTTP/1.1\r\nBad Header: x\r\n\r\n")))
        .isInstanceOf(HttpMessage.MalformedException.class);
  }
}
