package io.dwcp.session;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dwcp.session.LinkSampler.Figures;
import io.dwcp.session.LinkSampler.Measurement;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The link figures measured from source sessions' counters and TCP_INFO. */
class LinkSamplerTest {
    private final LinkSampler monitor = new LinkSampler();

    @Test
    void samplesArePerPeerOverTheInterval() {
        // two sessions to beta, one to gamma; started at t=1000
        List<Measurement> first = monitor.sample(
                List.of(
                        new Figures(1, "beta", 1000, 10_000_000, 40_000, 0, 5_000),
                        new Figures(2, "beta", 1000, 5_000_000, 30_000, 10, 5_000),
                        new Figures(3, "gamma", 1000, 1_000, 0, 0, 1)),
                2000);
        // beta: 15 MB in 1 s, RTT the smaller, 10 retransmits in 10000 segments; gamma: RTT unknown, too few segments
        // for a loss
        assertEquals(
                List.of(
                        new Measurement("beta", 30_000, 15_000_000, 1000, 2000),
                        new Measurement("gamma", 0, 1_000, 0, 2000)),
                first);
        List<Measurement> second =
                monitor.sample(List.of(new Figures(1, "beta", 1000, 30_000_000, 50_000, 0, 15_000)), 3000);
        // only what was sent since the last sample, and the loss of that interval
        assertEquals(List.of(new Measurement("beta", 50_000, 20_000_000, 0, 3000)), second);
        // nothing sent since: no measurement (an idle session says nothing of the link)
        assertEquals(
                List.of(), monitor.sample(List.of(new Figures(1, "beta", 1000, 30_000_000, 50_000, 0, 15_000)), 4000));
    }

    @Test
    void anEndedSessionIsMeasuredOverItsLife() {
        monitor.sample(List.of(new Figures(1, "beta", 1000, 10_000_000, 20_000, 4, 4_000)), 2000);
        // the streams are closed by now: no RTT, no TCP figures; the sampled ones stand
        assertEquals(
                Optional.of(new Measurement("beta", 20_000, 10_000_000, 1000, 5000)),
                monitor.ended(new Figures(1, "beta", 1000, 40_000_000, 0, 0, 0), 5000));
        // a session that sent nothing measured nothing
        assertEquals(Optional.empty(), monitor.ended(new Figures(2, "beta", 1000, 0, 10_000, 0, 0), 5000));
    }
}
