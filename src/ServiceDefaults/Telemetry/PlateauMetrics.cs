using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Plateau.ServiceDefaults.Telemetry;

/// <summary>
/// The <c>Plateau</c> meter and every instrument Plateau's own code records, one place for names and
/// units (docs/telemetry.md lists them; the dashboards test reads them from here). Worker instruments
/// carry <see cref="JobIdTag"/>, <see cref="RankTag"/> and <see cref="HostTag"/>; coordinator
/// instruments carry <see cref="JobIdTag"/>. Prometheus names follow <see cref="PrometheusName"/>.
/// </summary>
public static class PlateauMetrics
{
    public const string MeterName = "Plateau";

    public const string JobIdTag = "job_id";
    public const string RankTag = "rank";
    public const string HostTag = "host";
    public const string KindTag = "kind";
    public const string PhaseTag = "phase";
    public const string MethodTag = "method";
    public const string StatusTag = "status";
    public const string WorkerStateTag = "worker_state";

    // Seconds from 100 µs to 5 min: a CPU step of a tiny net to an ImageNet checkpoint upload.
    private static readonly double[] SecondsBuckets =
        [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

    public static readonly Meter Meter = new(MeterName, "1.0");

    // ------------------------------------------------------------ worker, per rank

    public static readonly Gauge<double> ImagesPerSecond = Meter.CreateGauge<double>(
        "plateau.train.images_per_second", "{image}/s", "Training images per second on this rank over the last progress window.");

    public static readonly Counter<long> Images = Meter.CreateCounter<long>(
        "plateau.train.images", "{image}", "Training images this rank has stepped on.");

    public static readonly Counter<long> Steps = Meter.CreateCounter<long>(
        "plateau.train.steps", "{step}", "Optimizer steps this rank has taken.");

    public static readonly Counter<long> SkippedSteps = Meter.CreateCounter<long>(
        "plateau.train.skipped_steps", "{step}", "Steps skipped on every rank because the averaged gradients were NaN or infinite.");

    public static readonly Histogram<double> StepDuration = Seconds(
        "plateau.train.step.duration", "Wall time of one training step: data wait + forward/backward + all-reduce + optimizer.");

    public static readonly Histogram<double> DataWaitDuration = Seconds(
        "plateau.train.data_wait.duration", "Time a step waited for its batch from the data loader.");

    public static readonly Histogram<double> ComputeDuration = Seconds(
        "plateau.train.compute.duration", "Forward and backward time of one step.");

    public static readonly Histogram<double> ForwardDuration = Seconds(
        "plateau.train.forward.duration", "Forward pass and loss of one step, timed on the host (on CUDA: until the kernels are queued; the rest shows in backward).");

    public static readonly Histogram<double> BackwardDuration = Seconds(
        "plateau.train.backward.duration", "Backward pass of one step (compute minus forward).");

    public static readonly Histogram<double> OptimizerDuration = Seconds(
        "plateau.train.optimizer.duration", "SGD update time of one step.");

    public static readonly Gauge<double> DataWaitShare = Meter.CreateGauge<double>(
        "plateau.train.data_wait.share", "1", "Share of step time spent waiting for data over the last progress window (0..1).");

    public static readonly Gauge<double> Loss = Meter.CreateGauge<double>(
        "plateau.train.loss", "1", "Mean training loss on this rank over the last progress window.");

    public static readonly Gauge<double> LearningRate = Meter.CreateGauge<double>(
        "plateau.train.learning_rate", "1", "Learning rate of this rank's latest step.");

    public static readonly Gauge<long> Epoch = Meter.CreateGauge<long>(
        "plateau.train.epoch", "{epoch}", "Epoch this rank is training (0-based).");

    public static readonly Gauge<long> GlobalStep = Meter.CreateGauge<long>(
        "plateau.train.global_step", "{step}", "Global steps completed (the job-wide cursor in steps).");

    public static readonly Gauge<long> EpochSamples = Meter.CreateGauge<long>(
        "plateau.train.epoch.samples", "{sample}", "Samples of the current epoch's order the group has trained: the data cursor a mid-epoch resume continues from.");

    public static readonly Histogram<double> AllReduceDuration = Seconds(
        "plateau.allreduce.duration", "Gradient all-reduce time of one step, packing included.");

    public static readonly Histogram<double> AllReduceWaitDuration = Seconds(
        "plateau.allreduce.wait.duration", "Of the all-reduce, time blocked waiting on the ring.");

    public static readonly Counter<long> AllReduceBytes = Meter.CreateCounter<long>(
        "plateau.allreduce.bytes", "By", "Gradient bytes this rank all-reduced (its buffer size per step, not wire bytes).");

    public static readonly Gauge<double> AllReduceBusBandwidth = Meter.CreateGauge<double>(
        "plateau.allreduce.bus_bandwidth", "By/s", "Bus bandwidth of the latest step's all-reduce: bytes / time × 2(n−1)/n, as nccl-tests reports it.");

    public static readonly Gauge<double> AllReduceShare = Meter.CreateGauge<double>(
        "plateau.allreduce.share", "1", "Share of step time spent in all-reduce over the last progress window (0..1).");

    public static readonly Histogram<double> EvaluationDuration = Seconds(
        "plateau.evaluation.duration", "Time this rank spent evaluating its validation share.");

    public static readonly Histogram<double> CheckpointDuration = Seconds(
        "plateau.checkpoint.duration", "Time from asking the job for a checkpoint to its commit (snapshot, write, hash, upload, commit).");

    public static readonly Histogram<double> CheckpointStall = Seconds(
        "plateau.checkpoint.stall.duration", "Time a checkpoint held training up: beginning it and copying the weights to host memory; writing and uploading run in the background.");

    public static readonly Counter<long> CheckpointsSuperseded = Meter.CreateCounter<long>(
        "plateau.checkpoint.superseded", "{checkpoint}", "Checkpoints replaced by a newer one while they waited behind an upload in flight.");

    public static readonly Gauge<long> CheckpointSize = Meter.CreateGauge<long>(
        "plateau.checkpoint.size", "By", "Size of the latest committed checkpoint.");

    public static readonly Counter<long> Checkpoints = Meter.CreateCounter<long>(
        "plateau.checkpoint.commits", "{checkpoint}", "Checkpoints committed.");

    public static readonly Counter<long> CheckpointFailures = Meter.CreateCounter<long>(
        "plateau.checkpoint.failures", "{checkpoint}", "Checkpoints that did not commit.");

    // ------------------------------------------------------------ coordinator, per job

    public static readonly Gauge<double> JobImagesPerSecond = Meter.CreateGauge<double>(
        "plateau.job.images_per_second", "{image}/s", "Training images per second summed over the formed group's ranks.");

    public static readonly Gauge<long> JobEpoch = Meter.CreateGauge<long>(
        "plateau.job.epoch", "{epoch}", "Latest completed epoch (0-based).");

    public static readonly Gauge<double> JobTrainLoss = Meter.CreateGauge<double>(
        "plateau.job.train.loss", "1", "Mean training loss of the latest completed epoch (summed over ranks).");

    public static readonly Gauge<double> JobTrainTop1Error = Meter.CreateGauge<double>(
        "plateau.job.train.top1_error", "1", "Training top-1 error of the latest completed epoch.");

    public static readonly Gauge<double> JobValLoss = Meter.CreateGauge<double>(
        "plateau.job.val.loss", "1", "Validation loss of the latest evaluated epoch.");

    public static readonly Gauge<double> JobValTop1Error = Meter.CreateGauge<double>(
        "plateau.job.val.top1_error", "1", "Validation top-1 error of the latest evaluated epoch.");

    public static readonly Gauge<double> JobValTop5Error = Meter.CreateGauge<double>(
        "plateau.job.val.top5_error", "1", "Validation top-5 error of the latest evaluated epoch.");

    public static readonly Gauge<double> JobLearningRate = Meter.CreateGauge<double>(
        "plateau.job.learning_rate", "1", "Learning rate the job decided last (each decision's new rate, or the latest epoch's rate).");

    public static readonly Counter<long> JobLrDecisions = Meter.CreateCounter<long>(
        "plateau.job.lr_decisions", "{decision}", "Learning-rate decisions, by kind (initial, plateau, milestone, warmup_done).");

    public static readonly Gauge<long> JobGeneration = Meter.CreateGauge<long>(
        "plateau.job.generation", "{generation}", "Current generation of the worker group.");

    public static readonly Gauge<long> JobWorkers = Meter.CreateGauge<long>(
        "plateau.job.workers", "{worker}", "Worker processes of the job by worker_state: training (in the formed group), waiting (registered for the next formation), standby (beyond workers.max).");

    public static readonly Gauge<long> JobRanks = Meter.CreateGauge<long>(
        "plateau.job.ranks", "{rank}", "Ranks in the formed group (0 while none is formed).");

    public static readonly Counter<long> JobRestarts = Meter.CreateCounter<long>(
        "plateau.job.restarts", "{restart}", "Times the group failed and was re-formed or the job failed.");

    public static readonly Gauge<long> JobPhase = Meter.CreateGauge<long>(
        "plateau.job.phase", "1", "1 for the phase the job is in, 0 for the phase it left.");

    public static readonly Counter<long> ApiRequests = Meter.CreateCounter<long>(
        "plateau.api.requests", "{request}", "JobService calls, by method and gRPC status.");

    public static readonly Histogram<double> ApiDuration = Seconds(
        "plateau.api.duration", "JobService call latency (unary calls; streaming calls until they end), by method and status.");

    /// <summary>
    /// The name the Prometheus exporter gives an instrument: non-alphanumerics become one <c>_</c>; the unit
    /// (annotations in braces dropped, <c>s</c> seconds, <c>By</c> bytes, <c>a/b</c> a_per_b) is appended
    /// unless the name already ends in it; counters end in <c>_total</c>. Histograms expose
    /// <c>_bucket</c>, <c>_sum</c> and <c>_count</c> series under this name.
    /// </summary>
    public static string PrometheusName(Instrument instrument)
    {
        ArgumentNullException.ThrowIfNull(instrument);
        var name = Sanitise(instrument.Name);
        if (!string.IsNullOrEmpty(instrument.Unit))
        {
            var unit = PrometheusUnit(instrument.Unit);
            if (!name.EndsWith(unit, StringComparison.Ordinal))
            {
                name += "_" + unit;
            }
        }

        var counter = instrument.GetType().IsGenericType && instrument.GetType().GetGenericTypeDefinition() is var type
            && (type == typeof(Counter<>) || type == typeof(ObservableCounter<>));
        return counter && !name.EndsWith("_total", StringComparison.Ordinal) ? name + "_total" : name;
    }

    /// <summary>Whether <paramref name="instrument"/> is exported as a Prometheus histogram.</summary>
    public static bool IsHistogram(Instrument instrument) =>
        instrument is not null && instrument.GetType().IsGenericType && instrument.GetType().GetGenericTypeDefinition() == typeof(Histogram<>);

    /// <summary>Tags of a worker rank's instruments.</summary>
    public static TagList RankTags(string jobId, int rank, string host) =>
        new() { { JobIdTag, jobId }, { RankTag, rank }, { HostTag, host } };

    private static Histogram<double> Seconds(string name, string description) =>
        Meter.CreateHistogram(name, "s", description, tags: null, new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });

    private static string Sanitise(string name)
    {
        var result = new System.Text.StringBuilder(name.Length);
        foreach (var c in name)
        {
            if (char.IsLetterOrDigit(c) || c == ':')
            {
                result.Append(c);
            }
            else if (result.Length == 0 || result[^1] != '_')
            {
                result.Append('_');
            }
        }

        return result.ToString();
    }

    private static string PrometheusUnit(string unit)
    {
        var plain = System.Text.RegularExpressions.Regex.Replace(unit, @"\{[^}]*\}", "");
        var slash = plain.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0 && slash < plain.Length - 1)
        {
            return Unit(plain[..slash]) + "_per_" + (plain[(slash + 1)..] switch
            {
                "s" => "second",
                "m" => "minute",
                "h" => "hour",
                "d" => "day",
                var other => other,
            });
        }

        return Unit(plain);
    }

    private static string Unit(string unit) => unit switch
    {
        "s" => "seconds",
        "ms" => "milliseconds",
        "us" => "microseconds",
        "ns" => "nanoseconds",
        "min" => "minutes",
        "h" => "hours",
        "d" => "days",
        "By" or "B" => "bytes",
        "KiBy" => "kibibytes",
        "MiBy" => "mebibytes",
        "GiBy" => "gibibytes",
        "1" => "",
        "%" => "percent",
        "Hz" => "hertz",
        _ => unit,
    };
}
