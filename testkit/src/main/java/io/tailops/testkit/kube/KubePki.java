package io.tailops.testkit.kube;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A throw-away PKI for one API server: a CA, the API server's serving certificate, client certificates for any user
 * and groups (x509 client-certificate authentication: CN is the user name, O the groups) and the service-account
 * signing key. RSA 2048, PEM files, keys in PKCS#8.
 */
public final class KubePki {

  private static final SecureRandom RANDOM = new SecureRandom();

  private final KeyPair caKey;
  private final X509Certificate caCert;

  private KubePki(KeyPair caKey, X509Certificate caCert) {
    this.caKey = caKey;
    this.caCert = caCert;
  }

  /** Makes a new CA. */
  public static KubePki create() {
    try {
      KeyPair key = rsa();
      X500Name name = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, "tsop-test-kube-ca").build();
      Instant now = Instant.now();
      JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, serial(),
          Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(3650))), name,
          key.getPublic());
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      b.addExtension(Extension.keyUsage, true,
          new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature));
      b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(key.getPublic()));
      return new KubePki(key, sign(b, key.getPrivate()));
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot create the test CA", e);
    }
  }

  /** A key and certificate signed by this CA. */
  public record Issued(PrivateKey key, X509Certificate cert, X509Certificate ca) {

    public String certPem() {
      return pem(cert);
    }

    public String keyPem() {
      return privateKeyPem(key);
    }

    /** Writes {@code <base>.crt} and {@code <base>.key} into {@code dir}. */
    public Issued write(Path dir, String base) {
      writeString(dir.resolve(base + ".crt"), certPem());
      writeString(dir.resolve(base + ".key"), keyPem());
      return this;
    }

    /**
     * An SSL context that presents this certificate and trusts only the CA (for plain JDK HTTP clients).
     */
    public SSLContext sslContext() {
      try {
        char[] pw = "changeit".toCharArray();
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("client", key, pw, new X509Certificate[] {cert, ca});
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, pw);
        KeyStore ts = KeyStore.getInstance("PKCS12");
        ts.load(null, null);
        ts.setCertificateEntry("ca", ca);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ts);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), RANDOM);
        return ctx;
      } catch (GeneralSecurityException | IOException e) {
        throw new IllegalStateException("cannot build an SSL context", e);
      }
    }
  }

  public X509Certificate caCert() {
    return caCert;
  }

  public String caPem() {
    return pem(caCert);
  }

  /** A serving certificate for the given DNS names and IP addresses. */
  public Issued server(String commonName, List<String> dnsNames, List<String> ipAddresses) {
    List<GeneralName> sans = new ArrayList<>();
    dnsNames.forEach(d -> sans.add(new GeneralName(GeneralName.dNSName, d)));
    ipAddresses.forEach(ip -> sans.add(new GeneralName(GeneralName.iPAddress, ip)));
    return issue(new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, commonName).build(),
        KeyPurposeId.id_kp_serverAuth, sans);
  }

  /** A client certificate: the API server sees user {@code user} in the given groups. */
  public Issued client(String user, String... groups) {
    X500NameBuilder nb = new X500NameBuilder(BCStyle.INSTANCE);
    for (String g : groups) {
      nb.addRDN(BCStyle.O, g);
    }
    nb.addRDN(BCStyle.CN, user);
    return issue(nb.build(), KeyPurposeId.id_kp_clientAuth, List.of());
  }

  private Issued issue(X500Name subject, KeyPurposeId purpose, List<GeneralName> sans) {
    try {
      KeyPair key = rsa();
      Instant now = Instant.now();
      X500Name issuer = X500Name.getInstance(caCert.getSubjectX500Principal().getEncoded());
      JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer, serial(),
          Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(365))), subject,
          key.getPublic());
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      b.addExtension(Extension.keyUsage, true,
          new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
      b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
      b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(caCert));
      if (!sans.isEmpty()) {
        b.addExtension(Extension.subjectAlternativeName, false,
            new GeneralNames(sans.toArray(GeneralName[]::new)));
      }
      return new Issued(key.getPrivate(), sign(b, caKey.getPrivate()), caCert);
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot issue a certificate for " + subject, e);
    }
  }

  /** A new RSA key pair, e.g. the service-account signing key. */
  public static KeyPair rsa() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
      g.initialize(2048, RANDOM);
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  public static String pem(X509Certificate cert) {
    try {
      StringWriter sw = new StringWriter();
      try (JcaPEMWriter w = new JcaPEMWriter(sw)) {
        w.writeObject(cert);
      }
      return sw.toString();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** PKCS#8 ({@code BEGIN PRIVATE KEY}), which both Go and fabric8 read. */
  public static String privateKeyPem(PrivateKey key) {
    return pemBlock("PRIVATE KEY", key.getEncoded());
  }

  /** X.509 SubjectPublicKeyInfo ({@code BEGIN PUBLIC KEY}). */
  public static String publicKeyPem(java.security.PublicKey key) {
    return pemBlock("PUBLIC KEY", key.getEncoded());
  }

  private static String pemBlock(String type, byte[] der) {
    String b64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
    return "-----BEGIN " + type + "-----\n" + b64 + "\n-----END " + type + "-----\n";
  }

  static String base64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  static void writeString(Path file, String content) {
    try {
      Files.writeString(file, content);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static BigInteger serial() {
    return new BigInteger(63, RANDOM).add(BigInteger.ONE);
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey signer)
      throws GeneralSecurityException {
    try {
      ContentSigner s = new JcaContentSignerBuilder("SHA256WithRSA").build(signer);
      return new JcaX509CertificateConverter().getCertificate(b.build(s));
    } catch (org.bouncycastle.operator.OperatorCreationException e) {
      throw new GeneralSecurityException(e);
    }
  }
}
