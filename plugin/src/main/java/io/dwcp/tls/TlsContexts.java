package io.dwcp.tls;

import io.dwcp.config.ConfigurationException;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Optional;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * The TLS contexts of the tunnel: TLS 1.3 only, both sides present a certificate signed by the
 * configured CA (mutual authentication); the peer's identity is its certificate's CN.
 */
public final class TlsContexts {
    // AES-128-GCM first: as safe for this use and cheaper per byte than AES-256 (guest memory is bulk data)
    private static final java.util.List<String> CIPHERS =
            java.util.List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256");

    private final SslContext server;
    private final SslContext client;
    private final SslProvider provider;

    public TlsContexts(TlsConfig config) {
        for (Path file : new Path[] {config.getCaFile(), config.getCertificateFile(), config.getKeyFile()}) {
            if (!Files.isReadable(file)) {
                throw new ConfigurationException(
                        "TLS file missing or unreadable: " + file
                                + " (tls.ca-file, tls.cert-file, tls.key-file; create them with 'dwcpd tls-ca' and 'dwcpd tls-host')");
            }
        }
        provider = choose(config.provider());
        try {
            server = SslContextBuilder.forServer(
                            config.getCertificateFile().toFile(),
                            config.getKeyFile().toFile())
                    .sslProvider(provider)
                    .trustManager(config.getCaFile().toFile())
                    .clientAuth(ClientAuth.REQUIRE)
                    .protocols("TLSv1.3")
                    .ciphers(CIPHERS)
                    .build();
            client = SslContextBuilder.forClient()
                    .sslProvider(provider)
                    .keyManager(
                            config.getCertificateFile().toFile(),
                            config.getKeyFile().toFile())
                    .trustManager(config.getCaFile().toFile())
                    // the identity check is ours: the certificate's CN must be the peer we dialled
                    .endpointIdentificationAlgorithm(null)
                    .protocols("TLSv1.3")
                    .ciphers(CIPHERS)
                    .build();
        } catch (Exception e) {
            throw new ConfigurationException(
                    "cannot load TLS material (" + config.getCertificateFile() + ", " + config.getKeyFile() + ", "
                            + config.getCaFile() + "): " + e.getMessage(),
                    e);
        }
    }

    /**
     * BoringSSL (through netty-tcnative) costs a fraction of the JDK's AES-GCM per byte: it is the
     * default wherever its native library loads; the JDK's engine is the fallback.
     */
    static SslProvider choose(TlsConfig.Provider wanted) {
        return switch (wanted) {
            case JDK -> SslProvider.JDK;
            case OPENSSL -> {
                if (!OpenSsl.isAvailable()) {
                    throw new ConfigurationException("tls.provider=openssl: BoringSSL does not load on this host ("
                            + OpenSsl.unavailabilityCause() + "); use tls.provider=auto or jdk");
                }
                yield SslProvider.OPENSSL;
            }
            case AUTO -> OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
        };
    }

    /** The TLS implementation in use: OPENSSL (BoringSSL) or JDK. */
    public SslProvider provider() {
        return provider;
    }

    public SslContext server() {
        return server;
    }

    public SslContext client() {
        return client;
    }

    /**
     * The fingerprint of the peer's certificate of an established TLS session: {@code sha256:}
     * and the SHA-256 of its DER encoding in lower-case hex (what a host publishes in its region
     * record); empty when the peer showed none.
     */
    public static Optional<String> peerFingerprint(SSLSession session) {
        try {
            Certificate[] chain = session.getPeerCertificates();
            if (chain.length == 0) {
                return Optional.empty();
            }
            return Optional.of(fingerprint(chain[0]));
        } catch (SSLPeerUnverifiedException e) {
            return Optional.empty();
        }
    }

    /** {@code sha256:} and the SHA-256 of the certificate's DER encoding, lower-case hex. */
    public static String fingerprint(Certificate certificate) {
        try {
            return "sha256:"
                    + java.util.HexFormat.of()
                            .formatHex(java.security.MessageDigest.getInstance("SHA-256")
                                    .digest(certificate.getEncoded()));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("cannot take the SHA-256 of a certificate: " + e.getMessage(), e);
        }
    }

    /** The CN of the peer's certificate of an established TLS session. */
    public static Optional<String> peerName(SSLSession session) {
        try {
            Certificate[] chain = session.getPeerCertificates();
            if (chain.length == 0 || !(chain[0] instanceof X509Certificate certificate)) {
                return Optional.empty();
            }
            return commonName(certificate);
        } catch (SSLPeerUnverifiedException e) {
            return Optional.empty();
        }
    }

    public static Optional<String> commonName(X509Certificate certificate) {
        try {
            for (Rdn rdn : new LdapName(certificate.getSubjectX500Principal().getName()).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    return Optional.of(rdn.getValue().toString());
                }
            }
            return Optional.empty();
        } catch (InvalidNameException e) {
            return Optional.empty();
        }
    }
}
