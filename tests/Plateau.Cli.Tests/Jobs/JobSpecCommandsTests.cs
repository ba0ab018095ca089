using System.Net;
using System.Net.Sockets;
using Plateau.Cli.Commands.Jobs;

namespace Plateau.Cli.Tests.Jobs;

/// <summary>What the job commands do before (or without) reaching a coordinator.</summary>
public sealed class JobSpecCommandsTests : IDisposable
{
    private const string BrokenSpec = """
        apiVersion: plateau/v1
        model: { name: resnet7 }
        dataset: { kind: synthetic }
        epochs: 2
        batch: { global: 32 }
        optimizer: { lr: -1 }
        schedule: { plateau: { factor: 1 } }
        """;

    private readonly string _directory = Directory.CreateTempSubdirectory("plateau-cli-spec-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task ValidatePrintsEveryFieldErrorAndExitsWithTwo()
    {
        var path = CliRunner.WriteSpec(_directory, "broken.yaml", BrokenSpec);

        var (exitCode, output, error) = await CliRunner.RunAsync("job", "validate", path);

        Assert.Equal((JobExitCodes.InvalidInput, ""), (exitCode, output));
        Assert.StartsWith($"{path}: 3 problems", error, StringComparison.Ordinal);
        Assert.Contains("  spec.model.name: unknown model 'resnet7'", error, StringComparison.Ordinal);
        Assert.Contains("  spec.optimizer.lr: must be > 0, got -1", error, StringComparison.Ordinal);
        Assert.Contains("  spec.schedule.plateau.factor: must be in (0, 1), got 1", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ValidateNamesTheFieldOfAnUnknownKeyAndAMissingFile()
    {
        var path = CliRunner.WriteSpec(_directory, "typo.yaml", CliRunner.TwoWorkerSpec().Replace("epochs: 3", "epoch: 3", StringComparison.Ordinal));

        var (exitCode, _, error) = await CliRunner.RunAsync("job", "validate", path, Path.Combine(_directory, "absent.yaml"));

        Assert.Equal(JobExitCodes.InvalidInput, exitCode);
        Assert.Contains("  spec.epoch: unknown field 'epoch'", error, StringComparison.Ordinal);
        Assert.Contains($"absent.yaml' does not exist", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SubmitOfAnInvalidSpecPrintsEveryErrorAndSendsNothing()
    {
        var path = CliRunner.WriteSpec(_directory, "broken.yaml", BrokenSpec);
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;

            var (exitCode, output, error) = await CliRunner.RunAsync("job", "submit", path, "--coordinator", $"http://127.0.0.1:{port}");

            Assert.Equal((JobExitCodes.InvalidInput, ""), (exitCode, output));
            Assert.StartsWith($"{path}: 3 problems, nothing was sent", error, StringComparison.Ordinal);
            Assert.Contains("  spec.optimizer.lr: must be > 0, got -1", error, StringComparison.Ordinal);
            Assert.False(listener.Pending(), "the CLI connected to the coordinator although the spec was invalid");
        }
        finally
        {
            listener.Stop();
        }
    }

    [Fact]
    public async Task UnreachableCoordinatorIsNamedWithTheSocketError()
    {
        var path = CliRunner.WriteSpec(_directory, "ok.yaml", CliRunner.TwoWorkerSpec());
        var address = $"http://127.0.0.1:{CliRunner.FreePort()}";

        var submit = await CliRunner.RunAsync("job", "submit", path, "--coordinator", address);
        var list = await CliRunner.RunAsync("job", "list", "--coordinator", address);
        var watch = await CliRunner.RunAsync("job", "--coordinator", address, "watch", "some-job");

        foreach (var (exitCode, output, error) in new[] { submit, list, watch })
        {
            Assert.Equal((JobExitCodes.Unreachable, ""), (exitCode, output));
            Assert.StartsWith($"cannot reach the coordinator at {address}: ", error, StringComparison.Ordinal);
            Assert.Contains("refused", error, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task AnAddressThatIsNotHttpIsRefusedBeforeAnyCall()
    {
        var (exitCode, _, error) = await CliRunner.RunAsync("job", "list", "--coordinator", "127.0.0.1:5100");

        Assert.Equal(JobExitCodes.Unreachable, exitCode);
        Assert.Equal("--coordinator must be an http:// or https:// address such as http://127.0.0.1:5100, got '127.0.0.1:5100'", error.Trim());
    }

    [Fact]
    public void DefaultCoordinatorIsLoopbackUnlessTheEnvironmentNamesOne()
    {
        Assert.Equal("http://127.0.0.1:5100", JobCommandOptions.DefaultCoordinator(null));
        Assert.Equal("http://127.0.0.1:5100", JobCommandOptions.DefaultCoordinator("  "));
        Assert.Equal("http://coordinator:5100", JobCommandOptions.DefaultCoordinator(" http://coordinator:5100 "));
    }

    [Fact]
    public async Task EveryExampleSpecIsValidAgainstTheRealModelRegistry()
    {
        var examples = Directory.GetFiles(Path.Combine(CliRunner.RepositoryRoot(), "examples"), "*.yaml").Order(StringComparer.Ordinal).ToArray();

        var (exitCode, output, error) = await CliRunner.RunAsync(["job", "validate", .. examples]);

        Assert.Equal((JobExitCodes.Ok, ""), (exitCode, error));
        Assert.Contains(examples, e => e.EndsWith("resnet110-cifar10.yaml", StringComparison.Ordinal));
        Assert.Contains(examples, e => e.EndsWith("resnet50-imagenet.yaml", StringComparison.Ordinal));
        Assert.Contains(examples, e => e.EndsWith("se-resnet50-imagenet.yaml", StringComparison.Ordinal));
        Assert.Equal(examples.Length, output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(line => line.Contains(": valid (model ", StringComparison.Ordinal)));
        Assert.Contains("se-resnet20-synthetic.yaml: valid (model se_resnet20_cifar, 12 epochs, global batch 64, 2 worker(s))", output, StringComparison.Ordinal);
        Assert.Contains("se-resnet50-imagenet.yaml: valid (model se_resnet50, 100 epochs, ", output, StringComparison.Ordinal);
    }

    [Fact]
    public void FieldErrorsComeFromTheStatusDetailsAndAStatusWithoutThemIsShownWhole()
    {
        var badRequest = new Google.Rpc.BadRequest();
        badRequest.FieldViolations.Add(new Google.Rpc.BadRequest.Types.FieldViolation { Field = "spec.model.name", Description = "unknown model 'x'; known models: a, b" });
        badRequest.FieldViolations.Add(new Google.Rpc.BadRequest.Types.FieldViolation { Field = "spec.optimizer.lr", Description = "must be > 0, got -1" });
        var status = new Google.Rpc.Status { Code = 3, Message = "joined text", Details = { Google.Protobuf.WellKnownTypes.Any.Pack(badRequest) } };
        var withDetails = Grpc.Core.RpcStatusExtensions.ToRpcException(status);
        var plain = new Grpc.Core.RpcException(new Grpc.Core.Status(Grpc.Core.StatusCode.InvalidArgument, "spec: a; b"));

        Assert.Equal(["spec.model.name: unknown model 'x'; known models: a, b", "spec.optimizer.lr: must be > 0, got -1"], RpcFailures.FieldMessages(withDetails));
        Assert.Equal(["spec: a; b"], RpcFailures.FieldMessages(plain));
    }
}
