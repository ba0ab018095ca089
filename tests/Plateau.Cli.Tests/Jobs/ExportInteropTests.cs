using System.Diagnostics;
using Plateau.Coordinator.Checkpoints;
using Plateau.Models.Architecture;
using Plateau.Models.Serialization;
using Plateau.Models.Zoo;
using static TorchSharp.torch;

namespace Plateau.Cli.Tests.Jobs;

/// <summary>
/// What <c>plateau export</c> writes loads into torchvision with <c>load_state_dict(strict=True)</c> and gives
/// Plateau's logits: a checkpoint laid out as the worker writes it (model.*, optimizer.momentum.*, metadata)
/// goes through the coordinator's WeightsExport, and Debian's PyTorch checks the result.
/// </summary>
public sealed class ExportInteropTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("plateau-export-interop-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task AnExportedResnet18LoadsStrictlyIntoTorchvisionAndGivesPlateausEvalLogits()
    {
        using var model = ModelRegistry.Create("resnet18", new ModelOptions { NumClasses = 10 });
        manual_seed(11);
        using (no_grad())
        {
            // Trained-looking BatchNorm statistics, so eval mode differs from train mode and a mix-up shows.
            foreach (var (name, tensor) in StateDict.Ordered(model))
            {
                if (name.EndsWith("running_mean", StringComparison.Ordinal))
                {
                    tensor.uniform_(-0.5, 0.5);
                }
                else if (name.EndsWith("running_var", StringComparison.Ordinal))
                {
                    tensor.uniform_(0.5, 2.0);
                }
                else if (name.EndsWith("num_batches_tracked", StringComparison.Ordinal))
                {
                    tensor.fill_(42);
                }
            }
        }

        var checkpoint = Path.Combine(_folder, "ckpt-1.ckpt");
        var tensors = StateDict.Ordered(model).Select(t => new KeyValuePair<string, Tensor>(WeightsExport.ModelPrefix + t.Key, t.Value))
            .Concat(model.named_parameters().Select(p => new KeyValuePair<string, Tensor>("optimizer.momentum." + p.name, zeros_like(p.parameter))))
            .ToList();
        SafeTensors.Save(checkpoint, tensors, new Dictionary<string, string> { ["format"] = WeightsExport.CheckpointFormat, ["model"] = "resnet18", ["epoch"] = "3" });
        WeightsExportPlan plan;
        await using (var source = File.OpenRead(checkpoint))
        await using (var file = File.Create(Path.Combine(_folder, "model.safetensors")))
        {
            plan = await WeightsExport.PlanAsync(source, "ckpt-1", new Dictionary<string, string>());
            await WeightsExport.CopyAsync(source, "ckpt-1", plan, bytes => file.WriteAsync(bytes).AsTask());
        }

        model.eval();
        manual_seed(12);
        using var input = randn(2, 3, 64, 64);
        using (no_grad())
        {
            using var logits = model.forward(input);
            SafeTensors.Save(Path.Combine(_folder, "probe.safetensors"), [new("input", input), new("logits", logits)]);
        }

        var (exitCode, output) = await RunTorchvisionAsync("check-export", _folder, "resnet18", "10");

        Assert.Equal(StateDict.Ordered(model).Count, plan.Tensors);
        Assert.True(exitCode == 0, output);
        Assert.Contains($"loaded {plan.Tensors} tensors strictly; format=pt", output, StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Output)> RunTorchvisionAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(CliRunner.RepositoryRoot(), "tests", "interop", "torchvision_weights.py"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["OMP_NUM_THREADS"] = "1";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, (await output) + (await error));
    }
}
