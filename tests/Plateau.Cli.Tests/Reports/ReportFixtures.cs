using Google.Protobuf.WellKnownTypes;
using Proto = Plateau.Protos.V1;

namespace Plateau.Cli.Tests.Reports;

/// <summary>A finished 4-epoch job as the JobService returns it: a plateau drop after epoch 1, a restart, three checkpoints.</summary>
internal static class ReportFixtures
{
    public const string DropReason = "val top-1 error 61.00% did not improve on 58.00% for 1 evaluation (patience 0) → lr 0.1 → 0.01";

    private static readonly DateTimeOffset Start = new(2026, 12, 1, 20, 0, 0, TimeSpan.Zero);

    public static Proto.Job Job()
    {
        var job = new Proto.Job
        {
            JobId = "report-job",
            Phase = Proto.JobPhase.Completed,
            PhaseReason = "trained 4 epochs (step 64)",
            Generation = 2,
            WorldSize = 2,
            TotalEpochs = 4,
            GlobalStep = 64,
            Restarts = 1,
            CreatedAt = At(0),
            UpdatedAt = At(400),
        };
        job.Transitions.Add(new Proto.Transition { From = Proto.JobPhase.Rendezvous, To = Proto.JobPhase.Running, Reason = "generation 1 formed", At = At(10) });
        double[] val = [0.62, 0.58, 0.61, 0.45];
        double[] lrs = [0.1, 0.1, 0.01, 0.01];
        for (var e = 0; e < 4; e++)
        {
            job.MetricsHistory.Add(new Proto.EpochMetrics
            {
                Epoch = e,
                GlobalStep = (e + 1) * 16,
                TrainLoss = 2.0 - (0.3 * e),
                TrainTop1Error = 0.7 - (0.1 * e),
                TrainSamples = 1024,
                ValTop1Error = val[e],
                ValTop5Error = val[e] / 3,
                ValLoss = 1.8 - (0.2 * e),
                ValSamples = 200,
                LearningRate = lrs[e],
                At = At(10 + ((e + 1) * 90)),
                RankImagesPerSecond = { 6.5, e == 2 ? 2.0 : 6.0 }, // rank 1 straggles in epoch 2
            });
        }

        job.LrDecisions.Add(new Proto.LrDecision { Epoch = 0, GlobalStep = 0, OldLr = 0.1, NewLr = 0.1, Kind = "initial", Reason = "lr 0.1 at global batch 64", At = At(10) });
        job.LrDecisions.Add(new Proto.LrDecision { Epoch = 2, GlobalStep = 32, OldLr = 0.1, NewLr = 0.01, Kind = "plateau", Reason = DropReason, At = At(190) });
        return job;
    }

    public static List<Proto.JobEvent> Events() =>
    [
        Event(1, 0, "transition", "Pending → Rendezvous: submitted", 1),
        Event(2, 10, "group_formed", "generation 1: ranks 0=worker-0/cpu:0, 1=worker-1/cpu:0", 1),
        Event(3, 100, "checkpoint_committed", "checkpoint ckpt-g0001-e0001 committed", 1),
        Event(4, 150, "failure", "rank 1 (worker-1 on vm) failed: connection reset", 1),
        Event(5, 160, "group_formed", "generation 2: ranks 0=worker-0/cpu:0, 1=worker-1/cpu:0", 2),
        Event(6, 190, "lr_decision", DropReason, 2),
        Event(7, 280, "checkpoint_committed", "checkpoint ckpt-g0002-e0003 committed", 2),
        Event(8, 370, "checkpoint_committed", "checkpoint ckpt-g0002-e0004 committed", 2),
        Event(9, 400, "transition", "Running → Completed: trained 4 epochs", 2),
    ];

    private static Proto.JobEvent Event(long sequence, int seconds, string kind, string message, long generation) =>
        new() { Sequence = sequence, At = At(seconds), Kind = kind, Message = message, Generation = generation };

    private static Timestamp At(int seconds) => Timestamp.FromDateTimeOffset(Start.AddSeconds(seconds));
}
