using Plateau.Contracts.Checkpoints;
using Plateau.Worker.Checkpointing;
using Plateau.Worker.Hosting;
using Plateau.Worker.Tests.Support;

namespace Plateau.Worker.Tests.Hosting;

public sealed class CheckpointTransferSettingTests
{
    [Theory]
    [InlineData("plateau-coordinator:5100")]
    [InlineData("ftp://plateau-coordinator:5100")]
    [InlineData("/var/lib/plateau")]
    public void AnAddressThatIsNotAnHttpUrlIsRefusedNamingTheSetting(string address)
    {
        var result = new WorkerOptionsValidator().Validate(null, Valid(address));
        Assert.True(result.Failed);
        var failure = Assert.Single(result.Failures);
        Assert.StartsWith("Plateau:Worker:CheckpointTransferAddress must be the coordinator's http:// or https:// API address", failure, StringComparison.Ordinal);
        Assert.Contains(address, failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("http://plateau-coordinator:5100")]
    [InlineData("https://coordinator.example.org")]
    public void NoAddressOrAnHttpUrlIsAccepted(string? address) =>
        Assert.False(new WorkerOptionsValidator().Validate(null, Valid(address)).Failed);

    [Fact]
    public void WithoutAnAddressAWorkerThatCannotSeeTheStoreIsToldWhichSettingMovesCheckpoints()
    {
        var transport = new SharedStoreTransport();
        var folder = Path.Combine(Path.GetTempPath(), "plateau-nowhere-" + Guid.NewGuid().ToString("N"));
        var record = new CheckpointRecord { CheckpointId = "c1", Sha256 = new string('0', 64) };
        var assignment = new FakeJob(folder, worldSize: 1, totalEpochs: 1).AssignmentFor(0, ["127.0.0.1:1"], record);

        try
        {
            var missing = Assert.Throws<FileNotFoundException>(() => transport.Fetch(assignment, record, CancellationToken.None));
            Assert.Contains("Plateau:Worker:CheckpointTransferAddress", missing.Message, StringComparison.Ordinal);
            var noStaging = Assert.Throws<InvalidOperationException>(() => transport.StagingPathFor(assignment, new CheckpointTicket("c2", 1, null)));
            Assert.Contains("Plateau:Worker:CheckpointTransferAddress", noStaging.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static WorkerOptions Valid(string? address) => new() { WorkerId = "worker-0", JobId = "job", CheckpointTransferAddress = address };
}
