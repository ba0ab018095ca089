using Plateau.Collective.Buckets;

namespace Plateau.Collective.Tests.Buckets;

public sealed class ParameterLayoutTests
{
    private static ParameterSpec[] Model() =>
    [
        new("conv1.weight", [64, 3, 7, 7]),
        new("bn1.weight", [64]),
        new("layer1.0.conv1.weight", [64, 64, 3, 3]),
        new("fc.weight", [1000, 512]),
    ];

    [Fact]
    public async Task IdenticalLayoutsPassVerification()
    {
        await using var ring = await RingHarness.StartAsync(3);
        await ring.AllAsync((g, _) => new ParameterLayout(Model()).VerifyAcrossRanksAsync(g));
    }

    [Fact]
    public async Task AShapeMismatchIsReportedOnEveryRankNamingTheOddRank()
    {
        await using var ring = await RingHarness.StartAsync(4);
        var errors = new CollectiveException[4];
        await ring.AllAsync(async (g, rank) =>
        {
            var parameters = Model();
            if (rank == 2)
            {
                parameters[2] = new ParameterSpec("layer1.0.conv1.weight", [64, 64, 1, 1]);
            }
            errors[rank] = await Assert.ThrowsAsync<CollectiveException>(() => new ParameterLayout(parameters).VerifyAcrossRanksAsync(g));
        });
        Assert.All(errors, e =>
        {
            Assert.Equal(2, e.FailedRank);
            Assert.Contains("rank 2 has shape [64, 64, 1, 1] for 'layer1.0.conv1.weight' (position 2) where rank 0 has [64, 64, 3, 3]", e.Message, StringComparison.Ordinal);
        });
        // A layout mismatch is the model's problem, not the ring's: the group stays usable.
        await ring.AllAsync((g, _) => g.BarrierAsync());
    }

    [Fact]
    public void MissingAndRenamedParametersAreDescribed()
    {
        var reference = new ParameterLayout(Model());
        var missing = new ParameterLayout(Model()[..3]);
        var renamed = new ParameterLayout([.. Model().Select((p, i) => i == 1 ? new ParameterSpec("bn1.gamma", p.Shape) : p)]);
        Assert.Equal("has 3 parameters, 1 fewer than rank 0 (first missing: 'fc.weight')", ParameterLayout.Difference(reference, missing, 0, 1));
        Assert.Equal("has 'bn1.gamma' at position 1 where rank 0 has 'bn1.weight'", ParameterLayout.Difference(reference, renamed, 0, 1));
        Assert.Equal(reference.Describe(), ParameterLayout.Parse(reference.Describe()).Describe());
    }
}
