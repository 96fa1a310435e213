// Autocomplete for the search box: asks /suggest as the user types and lists the
// answers under the box (built with textContent, never as HTML). Arrow keys move,
// Enter or a click picks; Escape closes.
(function(){
const box=document.getElementById('q'),list=document.getElementById('complete');
const KIND={place:'nơi',person:'người',title:'bài'};let timer=null,items=[],at=-1,seq=0;
function close(){list.hidden=true;list.textContent='';items=[];at=-1;}
function pick(i){if(i<0||i>=items.length)return;box.value=items[i].text;close();box.form.submit();}
function show(found){list.textContent='';items=found;at=-1;
 found.forEach(function(s,i){const li=document.createElement('li');li.setAttribute('role','option');
  li.textContent=s.text;const k=document.createElement('small');k.textContent=KIND[s.kind]||s.kind;
  li.appendChild(k);li.addEventListener('mousedown',function(ev){ev.preventDefault();pick(i);});
  list.appendChild(li);});list.hidden=found.length===0;}
function mark(){Array.from(list.children).forEach(function(li,i){
 li.setAttribute('aria-selected',i===at?'true':'false');});}
box.addEventListener('input',function(){clearTimeout(timer);const v=box.value;
 if(!v.trim()){close();return;}const mine=++seq;
 timer=setTimeout(function(){fetch('/suggest?limit=8&q='+encodeURIComponent(v))
  .then(function(r){return r.ok?r.json():{suggestions:[]};})
  .then(function(d){if(mine===seq)show(d.suggestions||[]);}).catch(close);},120);});
box.addEventListener('keydown',function(ev){if(list.hidden)return;
 if(ev.key==='ArrowDown'){at=Math.min(at+1,items.length-1);mark();ev.preventDefault();}
 else if(ev.key==='ArrowUp'){at=Math.max(at-1,-1);mark();ev.preventDefault();}
 else if(ev.key==='Enter'&&at>=0){ev.preventDefault();pick(at);}
 else if(ev.key==='Escape'){ev.preventDefault();close();}});
box.addEventListener('blur',function(){setTimeout(close,150);});
})();
