// Entry point: applies the saved theme and mounts the app.

import { render } from "preact";
import { App } from "./App";
import { applyTheme, initialTheme } from "./theme";
import "./styles.css";

applyTheme(initialTheme());
render(<App />, document.getElementById("app")!);
