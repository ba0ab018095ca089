using System.Globalization;
using Plateau.Contracts.Jobs;
using Plateau.Contracts.Rendezvous;
using Plateau.Contracts.Training;

namespace Plateau.Coordinator.Jobs;

/// <summary>
/// What the formed group's ranks said last: their progress reports (aggregated into the job's progress),
/// when each was last heard from (the coordinator's liveness check), skipped steps and stragglers. Held in
/// memory only: a new activation or generation starts it again.
/// </summary>
public sealed class RankProgress(JobContext job, JobJournal journal, JobLifecycle lifecycle)
{
    private readonly Dictionary<int, ProgressReport> _reports = [];
    private readonly Dictionary<int, DateTimeOffset> _lastSeen = [];
    private readonly Dictionary<int, DateTimeOffset> _reportedAt = [];
    private readonly StragglerDetector _stragglers = new();
    private DateTimeOffset? _lastCheck;

    private JobState S => job.State;

    /// <summary>The generation being watched; 0 when none.</summary>
    public long Generation { get; private set; }

    /// <summary>Starts watching the formed generation: every member counts as just seen.</summary>
    public void Start()
    {
        Reset();
        Generation = S.FormedGeneration;
        foreach (var member in S.Members)
        {
            _lastSeen[member.Rank] = job.Now;
        }
    }

    public void Reset()
    {
        Generation = 0;
        _lastCheck = null;
        _lastSeen.Clear();
        _reports.Clear();
        _reportedAt.Clear();
        _stragglers.Reset();
    }

    public void Seen(int rank) => _lastSeen[rank] = job.Now;

    /// <summary>Records a report and tells the rank whether to go on.</summary>
    public ProgressAck Observe(ProgressReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        job.EnsureExists();
        job.EnsureFormed(report.Generation, "progress report");
        job.EnsureRank(report.Rank);
        var previous = _reports.GetValueOrDefault(report.Rank)?.SkippedSteps ?? 0;
        if (report.Rank == 0 && report.SkippedSteps > previous)
        {
            // Every rank skips the same steps; rank 0 speaks for the group.
            journal.Add(JobEventKind.Warning, $"{report.SkippedSteps - previous} step(s) up to step {report.GlobalStep} skipped: the averaged gradients were NaN or infinite ({report.SkippedSteps} in generation {report.Generation}; the job fails after {S.Spec!.MaxNonFiniteSteps} in a row)",
                new WarningDetail(WarningKind.NonFiniteSteps, null, report.GlobalStep, report.SkippedSteps - previous));
        }

        if (_stragglers.Observe(report.Rank, report.OwnSecondsPerStep) is { } straggler && S.Members.FirstOrDefault(m => m.Rank == straggler.Rank) is { } slow)
        {
            journal.Add(JobEventKind.Warning, string.Create(CultureInfo.InvariantCulture,
                $"rank {slow.Rank} ({slow.WorkerId} on {slow.Host}) is a straggler: {straggler.OwnSecondsPerStep:0.000} s of its own work per step, {straggler.Ratio:0.0}x the other ranks' median of {straggler.OthersMedianSeconds:0.000} s; the whole group trains at its pace"),
                new WarningDetail(WarningKind.Straggler, slow.Rank, report.GlobalStep, straggler.Ratio));
            if (S.Spec!.Workers.EvictStragglers)
            {
                lifecycle.EvictStraggler(slow, report.GlobalStep, straggler.Ratio);
            }
        }

        _reports[report.Rank] = report;
        _reportedAt[report.Rank] = job.Now;
        Seen(report.Rank);
        S.Progress = Aggregate();
        JobTelemetry.Progress(job.JobId, S.Progress);
        return S.Phase switch
        {
            JobPhase.Running => new ProgressAck(WorkerDirective.Continue, ""),
            JobPhase.Paused => new ProgressAck(WorkerDirective.Pause, S.PhaseReason),
            _ => new ProgressAck(WorkerDirective.Stop, $"job is {S.Phase}: {S.PhaseReason}"),
        };
    }

    /// <summary>
    /// The member not heard from the longest, when that is longer than <paramref name="limit"/>, and for how long.
    /// Called every <paramref name="checkPeriod"/>: a check that comes more than a period late means the coordinator
    /// itself did not run (a saturated host, a long GC, a paused VM), and it could not have heard the ranks either,
    /// so that lost time is not counted against them.
    /// </summary>
    public (PeerInfo Member, TimeSpan Silence)? Silent(TimeSpan limit, TimeSpan checkPeriod)
    {
        var now = job.Now;
        if (_lastCheck is { } last && now - last > 2 * checkPeriod)
        {
            var unheard = now - last - checkPeriod;
            foreach (var rank in _lastSeen.Keys.ToList())
            {
                _lastSeen[rank] += unheard;
            }
        }

        _lastCheck = now;
        (PeerInfo Member, TimeSpan Silence)? longest = null;
        foreach (var member in S.Members)
        {
            if (_lastSeen.TryGetValue(member.Rank, out var seen) && now - seen > limit && (longest is null || now - seen > longest.Value.Silence))
            {
                longest = (member, now - seen);
            }
        }

        return longest;
    }

    /// <summary>Each member of the formed generation that has reported, by rank, from its latest report.</summary>
    public IReadOnlyList<RankThroughput> Throughput() =>
    [
        .. S.Members.OrderBy(m => m.Rank)
            .Where(m => _reports.TryGetValue(m.Rank, out var r) && r.Generation == S.FormedGeneration)
            .Select(m => (Member: m, Report: _reports[m.Rank]))
            .Select(x => new RankThroughput
            {
                Rank = x.Member.Rank,
                WorkerId = x.Member.WorkerId,
                Host = x.Member.Host,
                Epoch = x.Report.Epoch,
                GlobalStep = x.Report.GlobalStep,
                ImagesPerSecond = x.Report.ImagesPerSecond,
                OwnSecondsPerStep = x.Report.OwnSecondsPerStep,
                DataWaitShare = x.Report.DataWaitShare,
                AllReduceShare = x.Report.AllReduceShare,
                Loss = x.Report.Loss,
                StragglerRatio = _stragglers.RatioOf(x.Member.Rank),
                ReportedAt = _reportedAt[x.Member.Rank],
            }),
    ];

    private JobProgress Aggregate()
    {
        var reports = _reports.Values.Where(p => p.Generation == S.FormedGeneration).ToList();
        return new JobProgress
        {
            Epoch = reports.Count == 0 ? 0 : reports.Min(p => p.Epoch),
            GlobalStep = reports.Count == 0 ? 0 : reports.Min(p => p.GlobalStep),
            StepsInEpoch = S.StepsPerEpoch,
            ImagesPerSecond = reports.Sum(p => p.ImagesPerSecond),
            Loss = reports.Count == 0 ? 0 : reports.Average(p => p.Loss),
            DataWaitShare = reports.Count == 0 ? 0 : reports.Average(p => p.DataWaitShare),
            AllReduceShare = reports.Count == 0 ? 0 : reports.Average(p => p.AllReduceShare),
            LearningRate = reports.Count == 0 ? 0 : reports[0].LearningRate,
            At = job.Now,
        };
    }
}
