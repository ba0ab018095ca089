using System.Globalization;
using System.Xml.Linq;
using Plateau.Cluster;
using Plateau.Coordinator.Configuration;
using Plateau.Data.Decoding;

namespace Plateau.Deploy.Tests;

/// <summary>
/// The image's properties, checked on the Dockerfile itself: no Docker engine runs here, and hadolint is
/// served by neither the Debian nor the npm registry these machines reach.
/// </summary>
public sealed class DockerfileTests
{
    private static readonly Dockerfile File = Dockerfile.Parse(Repository.Read("Dockerfile"));

    [Fact]
    public void Builds_in_an_SDK_stage_and_runs_on_a_runtime_image_without_the_SDK()
    {
        var build = File.Named("build");

        Assert.StartsWith("mcr.microsoft.com/dotnet/sdk:", build.Image, StringComparison.Ordinal);
        Assert.DoesNotContain("sdk", File.Named("runtime-cpu").Image, StringComparison.Ordinal);
        Assert.DoesNotContain("sdk", File.Named("runtime-cuda").Image, StringComparison.Ordinal);
        Assert.Contains(File.Final.Instructions, i => i.Keyword == "COPY" && i.Arguments.Contains("--from=build", StringComparison.Ordinal));
    }

    [Fact]
    public void Restores_in_a_layer_of_project_files_only_before_the_sources_are_copied()
    {
        var build = File.Named("build").Instructions.ToList();
        var restore = build.FindIndex(i => i.Keyword == "RUN" && i.Arguments.Contains("dotnet restore", StringComparison.Ordinal));
        var sources = build.FindIndex(i => i.Keyword == "COPY" && i.Arguments.StartsWith("src/ src/", StringComparison.Ordinal));
        Assert.True(restore >= 0, "no dotnet restore step");
        Assert.True(sources > restore, "the sources are copied before the restore step, so every source change re-downloads packages");

        var copiedBeforeRestore = build.Take(restore).Where(i => i.Keyword == "COPY").SelectMany(i => i.Arguments.Split(' ')[..^1]).ToHashSet();
        foreach (var needed in RestoreInputs())
        {
            Assert.True(copiedBeforeRestore.Contains(needed), $"restore needs {needed}, which is not copied before it");
        }

        Assert.Contains(build.Skip(restore + 1), i => i.Keyword == "RUN" && i.Arguments.Contains("dotnet publish", StringComparison.Ordinal) && i.Arguments.Contains("--no-restore", StringComparison.Ordinal));
    }

    [Fact]
    public void A_build_argument_chooses_the_CPU_image_by_default_or_the_CUDA_one()
    {
        var device = Assert.Single(File.Global, i => i.Keyword == "ARG" && i.Arguments.StartsWith("PLATEAU_DEVICE", StringComparison.Ordinal));

        Assert.Equal("PLATEAU_DEVICE=cpu", device.Arguments);
        Assert.Equal("runtime-${PLATEAU_DEVICE}", File.Final.Image);
        Assert.StartsWith("nvidia/cuda:", File.Named("runtime-cuda").Image, StringComparison.Ordinal);
        // Restore and publish both pass the choice on, so the CUDA image restores TorchSharp-cuda-linux.
        var steps = File.Named("build").Arguments("RUN").Where(a => a.Contains("dotnet ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, steps.Count);
        Assert.All(steps, a => Assert.Contains("-p:PlateauCuda=$cuda", a, StringComparison.Ordinal));
        Assert.All(steps, a => Assert.Contains("\"$PLATEAU_DEVICE\" = \"cuda\" ]; then cuda=true", a, StringComparison.Ordinal));
    }

    [Fact]
    public void Every_stage_is_the_same_distribution_so_the_runtime_libstdcxx_is_the_one_the_build_checked()
    {
        Assert.All(File.Stages.Where(s => !s.Image.StartsWith("runtime-", StringComparison.Ordinal)),
            s => Assert.True(s.Image.EndsWith("-noble", StringComparison.Ordinal) || s.Image.EndsWith("-ubuntu24.04", StringComparison.Ordinal), $"{s.Image} is not Ubuntu 24.04"));
    }

    [Fact]
    public void Both_runtimes_install_libturbojpeg_which_the_decoder_loads()
    {
        Assert.Equal("libturbojpeg.so.0", TurboJpegNative.Library);
        foreach (var stage in new[] { "runtime-cpu", "runtime-cuda" })
        {
            Assert.Contains(File.Named(stage).Arguments("RUN"), a => a.Contains("apt-get install", StringComparison.Ordinal) && a.Split(' ').Contains("libturbojpeg"));
        }
    }

    [Fact]
    public void Runs_as_a_non_root_user_on_the_plateau_binary()
    {
        var user = Assert.Single(File.Final.Arguments("USER"));
        Assert.True(int.TryParse(user, CultureInfo.InvariantCulture, out var uid) && uid > 0, $"USER {user} must be a numeric non-root uid (Kubernetes runAsNonRoot checks numbers)");

        var assembly = XDocument.Load(Repository.PathOf("src", "Cli", "Plateau.Cli.csproj")).Descendants("AssemblyName").Single().Value;
        Assert.Equal($"[\"/app/{assembly}\"]", Assert.Single(File.Final.Arguments("ENTRYPOINT")));
        Assert.Contains(File.Named("runtime-cuda").Arguments("RUN"), a => a.Contains($"useradd --uid {uid}", StringComparison.Ordinal));
    }

    [Fact]
    public void Exposes_the_API_health_silo_gateway_and_data_plane_ports_the_code_and_manifests_use()
    {
        var exposed = File.Final.Arguments("EXPOSE").SelectMany(a => a.Split(' ')).SelectMany(Range).ToHashSet();
        var coordinator = new CoordinatorOptions();
        var cluster = new PlateauClusterOptions();
        var workerConfig = Overlay.Render("gpu").ConfigMap("plateau-worker").Data;
        var dataPort = int.Parse(workerConfig["PLATEAU_Plateau__Worker__DataPlanePort"], CultureInfo.InvariantCulture);
        var devices = int.Parse(workerConfig["PLATEAU_Plateau__Worker__Devices"], CultureInfo.InvariantCulture);

        foreach (var port in new[] { coordinator.GrpcPort, coordinator.HealthPort, cluster.SiloPort, cluster.GatewayPort })
        {
            Assert.Contains(port, exposed);
        }

        Assert.All(Enumerable.Range(dataPort, devices), port => Assert.Contains(port, exposed));
    }

    [Fact]
    public void The_health_check_is_the_plateau_health_verb_which_finds_each_role_s_health_port()
    {
        var check = Assert.Single(File.Final.Arguments("HEALTHCHECK"));
        var entry = Assert.Single(File.Final.Arguments("ENTRYPOINT")).Trim('[', ']').Trim('"');

        Assert.EndsWith($"CMD [\"{entry}\", \"health\"]", check, StringComparison.Ordinal);
        Assert.Contains(Plateau.Cli.PlateauCommand.Build().Subcommands, c => c.Name == "health");
        // The check needs no curl: both runtimes leave it out.
        foreach (var stage in File.Stages.Where(s => s.Name is "runtime-cpu" or "runtime-cuda"))
        {
            Assert.DoesNotContain(stage.Arguments("RUN"), a => a.Split(' ').Contains("curl"));
        }
    }

    [Fact]
    public void The_build_context_leaves_out_build_outputs()
    {
        var ignored = Repository.Read(".dockerignore").Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

        Assert.Contains("**/bin/", ignored);
        Assert.Contains("**/obj/", ignored);
        Assert.Contains("artifacts/", ignored);
    }

    [Fact]
    public void The_parser_sees_a_restore_after_the_source_copy_as_such()
    {
        var broken = Dockerfile.Parse("FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build\nCOPY src/ src/\nRUN dotnet restore \\\n  x.csproj\n");

        var body = broken.Named("build").Instructions.ToList();
        Assert.Equal(["COPY", "RUN"], body.Select(i => i.Keyword));
        Assert.Equal("dotnet restore x.csproj", body[1].Arguments);
    }

    /// <summary>What restore of the CLI reads: the repository-wide MSBuild files, build/, and every project it references.</summary>
    private static IEnumerable<string> RestoreInputs()
    {
        yield return "global.json";
        yield return "Directory.Build.props";
        yield return "Directory.Build.targets";
        yield return "Directory.Packages.props";
        yield return "build/";
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Queue<string>(["src/Cli/Plateau.Cli.csproj"]);
        while (pending.TryDequeue(out var project))
        {
            if (!seen.Add(project))
            {
                continue;
            }

            yield return project;
            var folder = Path.GetDirectoryName(project)!;
            foreach (var reference in XDocument.Load(Repository.PathOf(project)).Descendants("ProjectReference"))
            {
                var full = Path.GetFullPath(Path.Combine(Repository.Root, folder, reference.Attribute("Include")!.Value));
                pending.Enqueue(Path.GetRelativePath(Repository.Root, full).Replace('\\', '/'));
            }
        }
    }

    private static IEnumerable<int> Range(string text)
    {
        var parts = text.Split('/')[0].Split('-');
        var first = int.Parse(parts[0], CultureInfo.InvariantCulture);
        var last = parts.Length == 2 ? int.Parse(parts[1], CultureInfo.InvariantCulture) : first;
        return Enumerable.Range(first, last - first + 1);
    }
}
