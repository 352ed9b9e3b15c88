/**
 * PBA, bandwidth prediction: predictors of a link's goodput from its measured history, the
 * series they are evaluated on, and their evaluation.
 *
 * <h2>Pieces</h2>
 * <ul>
 * <li>{@link io.dwcp.pba.GoodputPredictor}: {@code observe(time, bit/s)} then {@code
 * predict(horizon)}, a {@link io.dwcp.pba.Prediction} with an 80% band. Implementations: {@link
 * io.dwcp.pba.LastValuePredictor}, {@link io.dwcp.pba.SlidingMeanPredictor}, {@link
 * io.dwcp.pba.EwmaPredictor}, {@link io.dwcp.pba.HoltPredictor} (damped trend) and the learned
 * {@link io.dwcp.pba.AutoregressivePredictor} (AR(p) by recursive least squares); {@link
 * io.dwcp.pba.GoodputPredictors} names them and says which one a link uses by default.</li>
 * <li>{@link io.dwcp.pba.GoodputSeries}: goodput per fixed bucket, read from a mahimahi trace
 * ({@link io.dwcp.pba.MahimahiTrace}) or from measurements recorded by the daemon ({@link
 * io.dwcp.pba.GoodputCsv}).</li>
 * <li>{@link io.dwcp.pba.PredictorEvaluation}: MAE, MAPE and the share within &plusmn;20% per
 * predictor and horizon; {@link io.dwcp.pba.PbaEvalCommand} is its command line ({@code dwcp
 * pba-eval}).</li>
 * </ul>
 *
 * <h2>Where predictions are used</h2>
 * <ul>
 * <li>A source session ({@code io.dwcp.session.SourceSide}, on its event loop): the zstd level
 * follows the link rate forecast for the next controller interval, and a stream-count probe must
 * beat the goodput forecast at the old count.</li>
 * <li>{@code dwcp migrate}'s ETA ({@code io.dwcp.cli.ProgressView}): the pre-copy model at the
 * forecast guest data rate.</li>
 * <li>{@code dwcp evacuate}: each link's forecast for the planner and its re-plans.</li>
 * </ul>
 *
 * <h2>Threads</h2>
 * Single-threaded value code: a predictor is fed and asked by one owner (the thread that owns the
 * link's measurements); nothing here is thread-safe, nothing here starts a thread. Series and
 * predictions are immutable.
 */
package io.dwcp.pba;
