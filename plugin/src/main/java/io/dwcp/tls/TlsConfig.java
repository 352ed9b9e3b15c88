package io.dwcp.tls;

import io.dwcp.config.Config;
import io.dwcp.config.ConfigurationException;
import java.nio.file.Path;

/** Mutual TLS between dwcpd peers: one CA, one certificate per host (CN = node.name). */
public class TlsConfig {
    private Path caFile = Path.of("/etc/dwcp/tls/ca.pem");
    private Path certificateFile = Path.of("/etc/dwcp/tls/host.pem");
    private Path keyFile = Path.of("/etc/dwcp/tls/host.key");
    private String provider = "auto";

    /** Which TLS implementation carries the tunnel. */
    public enum Provider {
        /** BoringSSL through Netty's tcnative where it loads, else the JDK's. */
        AUTO,
        /** BoringSSL (netty-tcnative-boringssl-static); dwcpd refuses to start where it does not load. */
        OPENSSL,
        /** The JDK's own engine (several times the CPU per byte). */
        JDK
    }

    public Path getCaFile() {
        return caFile;
    }

    @Config(value = "tls.ca-file", description = "PEM of the CA that signs every peer's certificate")
    public TlsConfig setCaFile(Path caFile) {
        this.caFile = caFile;
        return this;
    }

    public Path getCertificateFile() {
        return certificateFile;
    }

    @Config(value = "tls.cert-file", description = "PEM certificate (chain) of this host, CN = node.name")
    public TlsConfig setCertificateFile(Path certificateFile) {
        this.certificateFile = certificateFile;
        return this;
    }

    public Path getKeyFile() {
        return keyFile;
    }

    @Config(value = "tls.key-file", description = "PEM PKCS#8 private key of this host")
    public TlsConfig setKeyFile(Path keyFile) {
        this.keyFile = keyFile;
        return this;
    }

    public String getProvider() {
        return provider;
    }

    @Config(
            value = "tls.provider",
            description =
                    "auto (BoringSSL where it loads, else the JDK's engine), openssl (BoringSSL or refuse to start) or jdk")
    public TlsConfig setProvider(String provider) {
        try {
            Provider.valueOf(provider.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw ConfigurationException.invalidValue("tls.provider", provider, "expected auto, openssl or jdk");
        }
        this.provider = provider;
        return this;
    }

    public Provider provider() {
        try {
            return Provider.valueOf(provider.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw ConfigurationException.invalidValue("tls.provider", provider, "expected auto, openssl or jdk");
        }
    }
}
