package io.dwcp.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.config.ConfigurationException;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** tls.provider: BoringSSL by default on the platform the packages ship its native library for. */
class TlsProviderTest {
    @Test
    void boringSslLoadsOnLinuxX86() {
        // the plugin ships netty-tcnative-boringssl-static for linux-x86_64, the platform of these tests
        assertTrue(OpenSsl.isAvailable(), () -> "BoringSSL does not load: " + OpenSsl.unavailabilityCause());
        assertEquals(SslProvider.OPENSSL, TlsContexts.choose(TlsConfig.Provider.AUTO));
        assertEquals(SslProvider.OPENSSL, TlsContexts.choose(TlsConfig.Provider.OPENSSL));
        assertEquals(SslProvider.JDK, TlsContexts.choose(TlsConfig.Provider.JDK));
    }

    @Test
    void contextsUseTheConfiguredProvider(@TempDir Path directory) {
        CertificateAuthority ca = CertificateAuthority.create(directory, "test CA", Duration.ofDays(1));
        ca.issue("alpha", directory.resolve("alpha.pem"), directory.resolve("alpha.key"), Duration.ofDays(1));
        TlsConfig config = new TlsConfig()
                .setCaFile(directory.resolve("ca.pem"))
                .setCertificateFile(directory.resolve("alpha.pem"))
                .setKeyFile(directory.resolve("alpha.key"));
        assertEquals(SslProvider.OPENSSL, new TlsContexts(config).provider());
        assertEquals(SslProvider.JDK, new TlsContexts(config.setProvider("jdk")).provider());
        assertEquals(SslProvider.OPENSSL, new TlsContexts(config.setProvider("OpenSSL")).provider());
    }

    @Test
    void unknownProviderIsAConfigurationError() {
        ConfigurationException e =
                assertThrows(ConfigurationException.class, () -> new TlsConfig().setProvider("gnutls"));
        assertTrue(e.getMessage().contains("tls.provider=gnutls"), e.getMessage());
    }
}
