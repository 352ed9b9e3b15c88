package io.dwcp.tls;

import static io.dwcp.config.ConfigAssertions.assertFullMapping;
import static io.dwcp.config.ConfigAssertions.expectedDefaults;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dwcp.config.ConfigurationBinder;
import io.dwcp.config.ConfigurationException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TlsConfigTest {
    @Test
    void defaults() {
        TlsConfig config = expectedDefaults(TlsConfig.class)
                .expect("tls.ca-file", Path.of("/etc/dwcp/tls/ca.pem"))
                .expect("tls.cert-file", Path.of("/etc/dwcp/tls/host.pem"))
                .expect("tls.key-file", Path.of("/etc/dwcp/tls/host.key"))
                .expect("tls.provider", "auto")
                .verify();
        assertEquals(TlsConfig.Provider.AUTO, config.provider());
    }

    @Test
    void explicitMapping() {
        assertFullMapping(
                Map.of(
                        "tls.ca-file", "/srv/pki/site-ca.pem",
                        "tls.cert-file", "/srv/pki/hostA.pem",
                        "tls.key-file", "/srv/pki/hostA.key",
                        "tls.provider", "jdk"),
                TlsConfig.class,
                config -> {
                    assertEquals(Path.of("/srv/pki/site-ca.pem"), config.getCaFile());
                    assertEquals(Path.of("/srv/pki/hostA.pem"), config.getCertificateFile());
                    assertEquals(Path.of("/srv/pki/hostA.key"), config.getKeyFile());
                    assertEquals("jdk", config.getProvider());
                    assertEquals(TlsConfig.Provider.JDK, config.provider());
                });
        assertEquals(
                TlsConfig.Provider.OPENSSL,
                new TlsConfig().setProvider("OpenSSL").provider());
    }

    @Test
    void invalidValuesNameTheKey() {
        assertEquals(
                "tls.provider=boringssl: expected auto, openssl or jdk",
                assertThrows(
                                ConfigurationException.class,
                                () -> new ConfigurationBinder(Map.of("tls.provider", "boringssl"))
                                        .bind(TlsConfig.class))
                        .getMessage());
        assertEquals(
                "tls.key-file=host.key: expected an absolute path",
                assertThrows(
                                ConfigurationException.class,
                                () -> new ConfigurationBinder(Map.of("tls.key-file", "host.key")).bind(TlsConfig.class))
                        .getMessage());
    }
}
