using Plateau.Contracts.Specs;
using Plateau.Coordinator.Scheduling;

namespace Plateau.Coordinator.Tests.Scheduling;

public class LrScheduleTests
{
    private static JobSpec Spec(ScheduleSpec schedule, double lr = 0.1) => new()
    {
        Model = new ModelSpec { Name = "resnet50" },
        Dataset = new DatasetSpec { Kind = DatasetKind.Synthetic },
        Epochs = 90,
        Batch = new BatchSpec { Global = 1024 },
        Optimizer = new OptimizerSpec { Lr = lr },
        Schedule = schedule,
    };

    [Fact]
    public void LinearScalingMultipliesByGlobalBatchOverBase()
    {
        var schedule = new LrSchedule(Spec(new ScheduleSpec { LinearScaling = new LinearScalingSpec() }), globalBatch: 1024, stepsPerEpoch: 100);

        Assert.Equal(0.4, schedule.ScaledLr, 12);
        Assert.Equal(0.4, schedule.At(0, 0, plateauLr: 0.4), 12);
    }

    [Fact]
    public void GoyalWarmupRampsFromTheUnscaledRatePerStep()
    {
        // 5 epochs × 100 steps; start at 0.1 (= 0.4 / 4), reach 0.4 at step 500.
        var schedule = new LrSchedule(
            Spec(new ScheduleSpec { LinearScaling = new LinearScalingSpec(), Warmup = new WarmupSpec { Epochs = 5 } }),
            globalBatch: 1024, stepsPerEpoch: 100);

        Assert.Equal(500, schedule.WarmupSteps);
        Assert.Equal(0.1, schedule.At(0, 0, 0.4), 12);
        Assert.Equal(0.25, schedule.At(250, 2, 0.4), 12);
        Assert.Equal(0.4, schedule.At(500, 5, 0.4), 12);
    }

    [Fact]
    public void SegmentsReproduceTheStepFormula()
    {
        var schedule = new LrSchedule(
            Spec(new ScheduleSpec { LinearScaling = new LinearScalingSpec(), Warmup = new WarmupSpec { Epochs = 5 } }),
            globalBatch: 1024, stepsPerEpoch: 100);
        var plan = new Contracts.Training.EpochPlan { Epoch = 4, LrSegments = schedule.Segments(450, 550, 4, 0.4) };

        Assert.Equal(2, plan.LrSegments.Count);
        foreach (var step in new long[] { 450, 475, 499, 500, 549 })
        {
            Assert.Equal(schedule.At(step, 4, 0.4), plan.LearningRateAt(step), 12);
        }
    }

    [Fact]
    public void CifarMultiStepDividesByTenAt32kAnd48kIterations()
    {
        var spec = Spec(new ScheduleSpec { Steps = new StepScheduleSpec { Milestones = [32000, 48000], Unit = ScheduleUnit.Iterations } }) with
        {
            Epochs = null,
            Iterations = 64000,
        };
        var schedule = new LrSchedule(spec, globalBatch: 128, stepsPerEpoch: 351);

        Assert.Equal(0.1, schedule.At(31999, 91, 0), 12);
        Assert.Equal(0.01, schedule.At(32000, 91, 0), 12);
        Assert.Equal(0.001, schedule.At(48000, 136, 0), 12);
        var segments = schedule.Segments(31941, 32292, 91, 0);
        Assert.Equal([31941L, 32000L], segments.Select(s => s.StartStep));
        var milestone = Assert.Single(schedule.MilestonesWithin(31941, 32292, 91, 0));
        Assert.Equal("milestone 32000 iterations reached → lr 0.1 → 0.01 (× 0.1)", milestone.Reason);
    }

    [Fact]
    public void ResNet110ConstantWarmupUsesOneTenthFor400Iterations()
    {
        var schedule = new LrSchedule(
            Spec(new ScheduleSpec { Warmup = new WarmupSpec { Kind = WarmupKind.Constant, Iterations = 400, StartFactor = 0.1 } }),
            globalBatch: 128, stepsPerEpoch: 351);

        Assert.Equal(0.01, schedule.At(0, 0, 0.1), 12);
        Assert.Equal(0.01, schedule.At(399, 1, 0.1), 12);
        Assert.Equal(0.1, schedule.At(400, 1, 0.1), 12);
    }

    [Fact]
    public void PlateauScheduleUsesTheSchedulerRate()
    {
        var schedule = new LrSchedule(Spec(new ScheduleSpec { Plateau = new PlateauScheduleSpec() }), globalBatch: 256, stepsPerEpoch: 10);

        Assert.Equal(0.01, schedule.At(100, 10, plateauLr: 0.01), 12);
    }
}
