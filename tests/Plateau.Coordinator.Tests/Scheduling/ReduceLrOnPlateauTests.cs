using System.Text.Json;
using Plateau.Contracts.Jobs;
using Plateau.Contracts.Specs;
using Plateau.Coordinator.Scheduling;
using Plateau.Contracts.Training;

namespace Plateau.Coordinator.Tests.Scheduling;

public class ReduceLrOnPlateauTests
{
    private static double[] Replay(PlateauScheduleSpec spec, double lr, params double[] metrics)
    {
        var state = ReduceLrOnPlateau.Initial(lr);
        var lrs = new double[metrics.Length];
        for (var i = 0; i < metrics.Length; i++)
        {
            state = ReduceLrOnPlateau.Step(spec, state, metrics[i], i).State;
            lrs[i] = state.Lr;
        }

        return lrs;
    }

    [Fact]
    public void PatienceCountsBadEvaluationsBeforeTheDrop()
    {
        // best 0.5 at epoch 0; epochs 1, 2 are bad (≤ patience 2), epoch 3 is the third bad one → drop.
        var lrs = Replay(new PlateauScheduleSpec { Patience = 2 }, 0.1, 0.5, 0.6, 0.6, 0.6, 0.6);

        Assert.Equal([0.1, 0.1, 0.1, 0.1 * 0.1, 0.1 * 0.1], lrs);
    }

    [Fact]
    public void RelativeThresholdIgnoresImprovementsSmallerThanIt()
    {
        // rel 1%: 0.995 is not below 1.0 × 0.99, so it is a bad epoch; patience 0 drops at once.
        var lrs = Replay(new PlateauScheduleSpec { Patience = 0, Threshold = 0.01, Factor = 0.5 }, 1.0, 1.0, 0.995, 0.98);

        Assert.Equal([1.0, 0.5, 0.5], lrs);
    }

    [Fact]
    public void AbsoluteThresholdComparesDifferences()
    {
        var lrs = Replay(new PlateauScheduleSpec { Patience = 0, Threshold = 0.05, ThresholdMode = ThresholdMode.Abs }, 0.1, 0.50, 0.46, 0.44);

        Assert.Equal([0.1, 0.1 * 0.1, 0.1 * 0.1], lrs);
    }

    [Fact]
    public void CooldownSuspendsCountingAfterADrop()
    {
        // patience 0, cooldown 2: drop at epoch 1, epochs 2-3 are cooldown, next drop at epoch 4.
        var lrs = Replay(new PlateauScheduleSpec { Patience = 0, Cooldown = 2 }, 1.0, 1, 1, 1, 1, 1, 1);

        Assert.Equal([1.0, 0.1, 0.1, 0.1, 0.01, 0.01], lrs.Select(v => Math.Round(v, 12)).ToArray());
    }

    [Fact]
    public void MinLrIsAFloor()
    {
        var lrs = Replay(new PlateauScheduleSpec { Patience = 0, MinLr = 0.0005 }, 0.1, 1, 2, 3, 4, 5);

        Assert.Equal([0.1, 0.1 * 0.1, 0.1 * 0.1 * 0.1, 0.0005, 0.0005], lrs);
    }

    [Fact]
    public void MaxModeRewardsHigherValues()
    {
        var spec = new PlateauScheduleSpec { Metric = PlateauMetric.ValTop1Accuracy, Mode = PlateauMode.Max, Patience = 1 };

        var lrs = Replay(spec, 0.1, 0.5, 0.6, 0.6, 0.6);

        Assert.Equal([0.1, 0.1, 0.1, 0.1 * 0.1], lrs);
    }

    [Fact]
    public void DropIsExplainedWithTheMetricTheBestValueAndTheRates()
    {
        var spec = new PlateauScheduleSpec { Patience = 1 };
        var state = ReduceLrOnPlateau.Initial(0.1);
        state = ReduceLrOnPlateau.Step(spec, state, 0.309, 0).State;
        state = ReduceLrOnPlateau.Step(spec, state, 0.315, 1).State;

        var step = ReduceLrOnPlateau.Step(spec, state, 0.312, 2);

        Assert.True(step.Reduced);
        Assert.Equal("val top-1 error 31.20% did not improve on 30.90% for 2 evaluations (patience 1) → lr 0.1 → 0.01", step.Reason);
    }

    [Fact]
    public void StateSurvivesJsonRoundTrip()
    {
        var spec = new PlateauScheduleSpec { Patience = 3, Cooldown = 1 };
        var state = ReduceLrOnPlateau.Initial(0.1);
        foreach (var metric in new[] { 0.5, 0.4, 0.45, 0.46 })
        {
            state = ReduceLrOnPlateau.Step(spec, state, metric, state.Steps).State;
        }

        var restored = JsonSerializer.Deserialize<PlateauSchedulerState>(JsonSerializer.Serialize(state));

        Assert.Equal(state, restored);
        Assert.Equal(0.4, restored!.Best);
        Assert.Equal(2, restored.NumBadEpochs);
    }

    public static TheoryData<string> ReferenceCases() =>
        [.. Reference().RootElement.GetProperty("cases").EnumerateArray().Select(c => c.GetProperty("name").GetString()!)];

    /// <summary>Sequences from torch.optim.lr_scheduler.ReduceLROnPlateau (Reference/plateau_reference.py).</summary>
    [Theory]
    [MemberData(nameof(ReferenceCases))]
    public void MatchesPyTorchReduceLrOnPlateau(string name)
    {
        var c = Reference().RootElement.GetProperty("cases").EnumerateArray().Single(x => x.GetProperty("name").GetString() == name);
        var spec = new PlateauScheduleSpec
        {
            Metric = c.GetProperty("mode").GetString() == "max" ? PlateauMetric.ValTop1Accuracy : PlateauMetric.ValTop1Error,
            Mode = c.GetProperty("mode").GetString() == "max" ? PlateauMode.Max : PlateauMode.Min,
            Factor = c.GetProperty("factor").GetDouble(),
            Patience = c.GetProperty("patience").GetInt32(),
            Threshold = c.GetProperty("threshold").GetDouble(),
            ThresholdMode = c.GetProperty("threshold_mode").GetString() == "abs" ? ThresholdMode.Abs : ThresholdMode.Rel,
            Cooldown = c.GetProperty("cooldown").GetInt32(),
            MinLr = c.GetProperty("min_lr").GetDouble(),
            Eps = c.GetProperty("eps").GetDouble(),
        };
        var metrics = c.GetProperty("metrics").EnumerateArray().Select(m => m.GetDouble()).ToArray();
        var expected = c.GetProperty("expected_lrs").EnumerateArray().Select(m => m.GetDouble()).ToArray();

        var actual = Replay(spec, c.GetProperty("lr").GetDouble(), metrics);

        Assert.Equal(expected, actual);
    }

    private static JsonDocument Reference() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Scheduling", "Reference", "plateau_reference.json")));
}
