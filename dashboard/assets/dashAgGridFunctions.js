// Grid helpers the dashboard's grids name in their eventListeners (dash-ag-grid evaluates them here).
var dagfuncs = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});

// Enter on a focused row opens it, as a click does: keyboard users reach every patient.
dagfuncs.openRowOnEnter = function (params, setEventData) {
  if (params.event && params.event.key === "Enter") {
    setEventData({ rowId: params.node.id, colId: params.column.getColId() });
  }
};
