package io.dwcp.testbed.dwcp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** How the faults and soak tests pick a migration's stream among a daemon's tunnel connections. */
class DwcpLinkPortsTest {
    @Test
    void theConnectionThatSentTheMostComesFirst() {
        String ss = String.join(
                "\n",
                "0      0      10.77.0.1:40001 10.77.0.2:7470",
                "\t cubic wscale:7,7 rto:204 rtt:40.5/0.2 mss:1448 bytes_sent:2380 bytes_acked:2380 segs_out:70",
                "0      412    10.77.0.1:40002 10.77.0.2:7470",
                "\t bbr wscale:7,7 rto:240 rtt:41/1 mss:1448 bytes_sent:88123456 bytes_acked:88000000",
                "0      0      10.77.0.1:40003 10.77.0.2:7470",
                "\t cubic wscale:7,7 rto:204 rtt:40/0 mss:1448 segs_out:3",
                "0      0      10.77.0.1:40004 10.77.0.2:7470",
                "\t bbr rto:204 bytes_sent:512000 bytes_acked:511000");
        assertEquals(List.of("40002", "40004", "40001", "40003"), DwcpLink.busiestPorts(ss, "10.77.0.1"));
        assertEquals(List.of(), DwcpLink.busiestPorts("", "10.77.0.1"));
    }
}
