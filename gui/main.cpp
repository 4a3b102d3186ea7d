// clustersim-gui [SCENARIO.json] [--screenshot DIR] [--theme system|light|dark]
// The desktop explorer over the same core and scenario files as the clustersim command.
#include <QApplication>
#include <QCommandLineParser>
#include <QSettings>
#include <QTextStream>

#include "gui/main_window.hpp"
#include "gui/scenario_document.hpp"
#include "gui/theme.hpp"

int main(int argc, char** argv) {
  using namespace clustersim::gui;
  QApplication app(argc, argv);
  QApplication::setApplicationName(QStringLiteral("clustersim-gui"));
  QApplication::setOrganizationName(QStringLiteral("clustersim"));
  QApplication::setApplicationVersion(QStringLiteral(CLUSTERSIM_VERSION_STRING));

  QCommandLineParser cli;
  cli.setApplicationDescription(QStringLiteral("What-if exploration of LLM training cost on GPU clusters."));
  cli.addHelpOption();
  cli.addVersionOption();
  cli.addPositionalArgument(QStringLiteral("scenario"), QStringLiteral("Scenario JSON file to open (optional)."),
                            QStringLiteral("[SCENARIO.json]"));
  const QCommandLineOption screenshot(QStringLiteral("screenshot"),
                                      QStringLiteral("Render every view to DIR/<view>.png and exit."), QStringLiteral("DIR"));
  const QCommandLineOption theme_opt(QStringLiteral("theme"), QStringLiteral("Colour theme: system, light or dark."),
                                     QStringLiteral("MODE"));
  cli.addOption(screenshot);
  cli.addOption(theme_opt);
  cli.process(app);
  QTextStream err(stderr);

  theme::Mode mode = static_cast<theme::Mode>(QSettings().value(QStringLiteral("theme"), 0).toInt());
  if (cli.isSet(theme_opt)) {
    const QString t = cli.value(theme_opt);
    if (t == QLatin1String("dark")) mode = theme::Mode::dark;
    else if (t == QLatin1String("light")) mode = theme::Mode::light;
    else if (t == QLatin1String("system")) mode = theme::Mode::system;
    else {
      err << "error: --theme: '" << t << "' is not one of system, light, dark\n";
      return 2;
    }
  }
  // Screenshots are reproducible: light unless asked otherwise, whatever the saved preference.
  if (cli.isSet(screenshot) && !cli.isSet(theme_opt)) mode = theme::Mode::light;
  theme::apply(app, mode);

  MainWindow window;
  const QStringList args = cli.positionalArguments();
  if (args.size() > 1) {
    err << "error: at most one scenario file\n";
    return 2;
  }
  if (!args.isEmpty()) {
    if (cli.isSet(screenshot)) {
      // No dialogs in batch mode: a file that cannot be read is an error exit.
      if (const auto e = window.document()->open(args.front())) {
        err << "error: " << QString::fromStdString(e->what()) << "\n";
        return e->code == clustersim::ErrorCode::io ? 3 : 2;
      }
    } else {
      window.open_file(args.front());
    }
  }
  window.show();
  if (cli.isSet(screenshot)) {
    window.resize(1440, 900);
    QString error;
    const QStringList files = window.render_screenshots(cli.value(screenshot), &error);
    if (!error.isEmpty()) {
      err << "error: " << error << "\n";
      return 3;
    }
    QTextStream out(stdout);
    for (const auto& f : files) out << f << "\n";
    if (const auto& e = window.document()->error())
      err << "note: the scenario is not valid (" << QString::fromStdString(e->what()) << "); the views show "
          << (window.document()->last_valid() ? "the last valid one" : "nothing") << "\n";
    return 0;
  }
  return QApplication::exec();
}
