using Plateau.Contracts.Specs;
using Plateau.Worker.Training;

namespace Plateau.Worker.Tests.Training;

public sealed class CheckpointCadenceTests
{
    [Fact]
    public void WithoutEveryStepsOrEveryMinutesNothingIsDueInsideAnEpoch()
    {
        var cadence = new CheckpointCadence(new CheckpointPolicySpec(), new ManualClock());

        Assert.False(cadence.Enabled);
        Assert.False(cadence.IsDue(1000));
    }

    [Fact]
    public void EveryStepsIsDueOnEachMultipleOfTheGlobalStep()
    {
        var cadence = new CheckpointCadence(new CheckpointPolicySpec { EverySteps = 4 }, new ManualClock());

        Assert.Equal([4L, 8L, 12L], Enumerable.Range(1, 13).Select(s => (long)s).Where(cadence.IsDue));
    }

    [Fact]
    public void EveryMinutesCountsFromTheLastCheckpointWhereverItCameFrom()
    {
        var clock = new ManualClock();
        var cadence = new CheckpointCadence(new CheckpointPolicySpec { EveryMinutes = 10 }, clock);

        clock.Advance(TimeSpan.FromMinutes(9));
        Assert.False(cadence.IsDue(1));
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.True(cadence.IsDue(2));

        cadence.Taken();
        clock.Advance(TimeSpan.FromMinutes(9.5));
        Assert.False(cadence.IsDue(3));
    }

    private sealed class ManualClock : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}
